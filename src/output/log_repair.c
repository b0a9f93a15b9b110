/* The end of a log that a killed run (SIGKILL, a crash, a power cut) left mid-write: half
 * a row, or a gzip member cut short. Appending to it would glue the next row to the half
 * one, or make zcat read the next members as the cut one's continuation (corrupt data
 * from there on). What the run finished stays; what it did not goes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "output/log_file_impl.h"
#include "util/report.h"

/* How far back from the end a member's start is looked for (a 1M-row snapshot is ~25
 * MB at level 1), and in what steps. */
#define MEMBER_SEARCH_MAX ((off_t)64 << 20)
#define SEARCH_CHUNK (1 << 20)
#define INFLATE_CHUNK (64 * 1024)

/* A gzip member's first bytes as zlib writes them: magic, deflate, no flags, no time. */
static const unsigned char member_start[8] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0 };
#define START_LEN ((off_t)sizeof(member_start))

static void cut_to(struct log_file *lf, int wfd, off_t size, off_t keep, const char *what)
{
	if (keep < size && ftruncate(wfd, keep) == 0)
		report_error("log '%s' ended in %s (%lld bytes) left by a run that was killed; "
			     "cut it off",
			     lf->path, what, (long long)(size - keep));
}

static void plain_repair(struct log_file *lf, int rfd, int wfd, off_t size)
{
	char tail[2 * FORMAT_LINE_MAX];
	off_t from = size > (off_t)sizeof(tail) ? size - (off_t)sizeof(tail) : 0;
	ssize_t n = pread(rfd, tail, (size_t)(size - from), from);
	char *last = n > 0 ? memrchr(tail, '\n', (size_t)n) : NULL;

	if (n > 0 && tail[n - 1] != '\n' && last)
		cut_to(lf, wfd, size, from + (last - tail) + 1, "half a row");
}

/* Inflates from a candidate member start to the end of the file: 0 and *keep, where
 * what is whole ends, when it is a member (whole, or cut short: *keep is then its
 * start); -1 when it is not one. */
static int member_from(int rfd, off_t start, off_t size, off_t *keep)
{
	unsigned char *in = malloc(2 * INFLATE_CHUNK), *out;
	z_stream z = { 0 };
	off_t at = start;
	int rc = Z_OK;

	if (!in || inflateInit2(&z, 15 + 16) != Z_OK) {
		free(in);
		return -1;
	}
	out = in + INFLATE_CHUNK;
	while (rc == Z_OK && (z.avail_in > 0 || at < size)) {
		if (z.avail_in == 0) {
			ssize_t n = pread(rfd, in,
					  size - at < INFLATE_CHUNK ? (size_t)(size - at)
								    : INFLATE_CHUNK,
					  at);
			if (n <= 0) {
				rc = Z_ERRNO; /* unreadable: not cut */
				break;
			}
			at += n;
			z.next_in = in;
			z.avail_in = (uInt)n;
		}
		z.next_out = out;
		z.avail_out = INFLATE_CHUNK;
		rc = inflate(&z, Z_NO_FLUSH);
	}
	*keep = rc == Z_STREAM_END ? at - z.avail_in : start;
	inflateEnd(&z);
	free(in);
	return rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR ? 0 : -1;
}

/* The last member starting in [from, end): 0 and *keep (see member_from), or -1. */
static int search_chunk(int rfd, unsigned char *buf, off_t from, off_t end, off_t size, off_t *keep)
{
	off_t to = end + START_LEN - 1 < size ? end + START_LEN - 1 : size;
	size_t len = (size_t)(to - from);
	size_t i = len >= START_LEN ? len - START_LEN + 1 : 0;

	if (pread(rfd, buf, len, from) != (ssize_t)len)
		return -1;
	while (i-- > 0)
		if (memcmp(buf + i, member_start, START_LEN) == 0 &&
		    member_from(rfd, from + (off_t)i, size, keep) == 0)
			return 0;
	return -1;
}

static void gzip_repair(struct log_file *lf, int rfd, int wfd, off_t size)
{
	unsigned char *buf = malloc(SEARCH_CHUNK + START_LEN);
	off_t end = size, from, keep = size;

	while (buf && end > 0 && size - end < MEMBER_SEARCH_MAX) {
		from = end > SEARCH_CHUNK ? end - SEARCH_CHUNK : 0;
		if (search_chunk(rfd, buf, from, end, size, &keep) == 0)
			break;
		end = from;
	}
	free(buf);
	cut_to(lf, wfd, size, keep, "a gzip member cut short");
}

void log_repair_tail(struct log_file *lf, int rfd, int wfd, off_t size)
{
	if (lf->gzip)
		gzip_repair(lf, rfd, wfd, size);
	else
		plain_repair(lf, rfd, wfd, size);
}

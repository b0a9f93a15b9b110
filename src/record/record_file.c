/* Reading a recording: the file is mapped whole, and records are found one after the
 * other by their lengths; their checksums decide what is whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "record/record_file.h"
#include "util/report.h"

struct record_reader {
	const char *path;
	const uint8_t *map;
	size_t size;
	size_t pos;
	struct record_decoder decoder;
};

/* The end of the whole records from pos on: the walk stops at bytes that are not a whole
 * record, or whose checksum fails (every record's with check_all, else the last's). */
static size_t whole_records_end(const uint8_t *map, size_t size, size_t pos, bool check_all)
{
	struct record_header h;

	while (pos < size && record_header_parse(map + pos, size - pos, &h) == 0 &&
	       record_total_len(&h) <= size - pos) {
		if ((check_all || pos + record_total_len(&h) == size) &&
		    !record_checksum_ok(map + pos, &h))
			break;
		pos += record_total_len(&h);
	}
	return pos;
}

struct record_reader *record_reader_open(const char *path)
{
	struct record_reader *r = calloc(1, sizeof(*r));
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	char why[160];
	struct stat st;

	if (!r || fd < 0 || fstat(fd, &st) < 0) {
		report_error("-r/--read '%s': %s", path, strerror(r ? errno : ENOMEM));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		report_error("-r/--read '%s': is not a regular file", path);
		goto fail;
	}
	r->path = path;
	r->size = (size_t)st.st_size;
	if (r->size > 0) {
		r->map = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (r->map == MAP_FAILED) {
			r->map = NULL;
			report_error("-r/--read '%s': %s", path, strerror(errno));
			goto fail;
		}
	}
	if (record_file_header_check(r->map, r->size, why, sizeof(why)) < 0) {
		report_error("-r/--read '%s': %s", path, why);
		goto fail;
	}
	close(fd);
	r->pos = RECORD_FILE_HEADER_LEN;
	record_decoder_init(&r->decoder);
	return r;
fail:
	if (fd >= 0)
		close(fd);
	record_reader_close(r);
	return NULL;
}

void record_reader_close(struct record_reader *r)
{
	if (!r)
		return;
	if (r->map)
		munmap((void *)r->map, r->size);
	record_decoder_free(&r->decoder);
	free(r);
}

bool record_reader_first_time(struct record_reader *r, uint64_t *real_ns)
{
	struct record_header h;

	if (record_header_parse(r->map + RECORD_FILE_HEADER_LEN, r->size - RECORD_FILE_HEADER_LEN,
				&h) < 0)
		return false;
	*real_ns = h.real_ns;
	return true;
}

void record_reader_seek(struct record_reader *r, uint64_t real_ns)
{
	size_t pos = RECORD_FILE_HEADER_LEN;
	struct record_header h;

	r->pos = pos;
	while (pos < r->size && record_header_parse(r->map + pos, r->size - pos, &h) == 0 &&
	       record_total_len(&h) <= r->size - pos && h.real_ns <= real_ns) {
		if (h.type == RECORD_KEY)
			r->pos = pos;
		pos += record_total_len(&h);
	}
	record_decoder_reset(&r->decoder);
}

/* The next place from which a whole record with a good checksum starts, or the end. */
static size_t next_good_record(const struct record_reader *r, size_t from)
{
	static const uint8_t magic[4] = { 'T', 'R', 'E', 'C' };
	struct record_header h;

	for (size_t at = from; at + RECORD_HEADER_LEN <= r->size; at++) {
		const uint8_t *p = memmem(r->map + at, r->size - at, magic, sizeof(magic));

		if (!p)
			break;
		at = (size_t)(p - r->map);
		if (record_header_parse(p, r->size - at, &h) == 0 &&
		    record_total_len(&h) <= r->size - at && record_checksum_ok(p, &h))
			return at;
	}
	return r->size;
}

void record_reader_walk(struct record_reader *r, record_walk_fn fn, void *ctx)
{
	size_t pos = RECORD_FILE_HEADER_LEN;
	struct record_header h;
	bool chained = false; /* a delta here would decode: a key came before, unbroken */

	while (pos < r->size) {
		if (record_header_parse(r->map + pos, r->size - pos, &h) < 0 ||
		    record_total_len(&h) > r->size - pos || !record_checksum_ok(r->map + pos, &h)) {
			pos = next_good_record(r, pos + 1);
			chained = false;
			continue;
		}
		chained |= h.type == RECORD_KEY;
		if ((h.type == RECORD_KEY || h.type == RECORD_DELTA) && chained)
			fn(ctx, pos, &h);
		pos += record_total_len(&h);
	}
}

void record_reader_goto(struct record_reader *r, size_t pos)
{
	r->pos = pos;
	record_decoder_reset(&r->decoder);
}

/* pos holds no whole, good record: the rest of the file is torn (an incomplete last
 * record), or a damaged record is skipped up to the next good one. */
static void skip_bad(struct record_reader *r)
{
	size_t next = next_good_record(r, r->pos + 1);

	if (next == r->size)
		report_error("-r/--read '%s': ends in an incomplete record (%zu bytes, left by a "
			     "run that was killed?); ignored",
			     r->path, r->size - r->pos);
	else
		report_error("-r/--read '%s': %zu damaged bytes at byte %zu skipped", r->path,
			     next - r->pos, r->pos);
	r->pos = next;
	record_decoder_reset(&r->decoder);
}

struct snapshot *record_reader_next(struct record_reader *r)
{
	struct record_header h;
	struct snapshot *s;
	const char *why;

	while (r->pos < r->size) {
		const uint8_t *at = r->map + r->pos;

		if (record_header_parse(at, r->size - r->pos, &h) < 0 ||
		    record_total_len(&h) > r->size - r->pos || !record_checksum_ok(at, &h)) {
			skip_bad(r);
			continue;
		}
		r->pos += record_total_len(&h);
		if (h.type != RECORD_KEY && h.type != RECORD_DELTA)
			continue; /* a kind of record a later version adds */
		s = record_decode(&r->decoder, at, &h, &why);
		if (s)
			return s;
		if (h.type == RECORD_KEY || r->decoder.last.valid)
			report_error("-r/--read '%s': record at byte %zu skipped: %s", r->path,
				     r->pos - record_total_len(&h), why);
	}
	return NULL;
}

int record_file_check_existing(const char *path, int rfd, int wfd, off_t size, char *why,
			       size_t why_len)
{
	uint8_t header[RECORD_FILE_HEADER_LEN];
	ssize_t n = pread(rfd, header, sizeof(header), 0);
	const uint8_t *map;
	size_t end;

	if (record_file_header_check(header, n > 0 ? (size_t)n : 0, why, why_len) < 0)
		return -1;
	map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, rfd, 0);
	if (map == MAP_FAILED) {
		snprintf(why, why_len, "cannot read it (%s)", strerror(errno));
		return -1;
	}
	end = whole_records_end(map, (size_t)size, RECORD_FILE_HEADER_LEN, false);
	munmap((void *)map, (size_t)size);
	if (end < (size_t)size && ftruncate(wfd, (off_t)end) == 0)
		report_error("recording '%s' ended in an incomplete record (%lld bytes) left by a "
			     "run that was killed; cut it off",
			     path, (long long)size - (long long)end);
	return 0;
}

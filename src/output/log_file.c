/* The --log file: see include/log_file.h. A snapshot reaches the file whole or not at all
 * for gzip (one member, one write()); plain text is written in blocks of whole lines, and
 * a write that fails part-way is cut back to the last whole line. Opening, with its
 * checks, is in log_open.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output/log_file_impl.h"
#include "util/report.h"

/* zlib's level for gzip logs (bench/README: level 1 against 6). */
#define LOG_GZIP_LEVEL 1
/* The member buffer grows by doubling, from this, and keeps this much room free. */
#define MEMBER_MIN_ROOM (256 * 1024)
#define MEMBER_SPARE (64 * 1024)

const char *log_error_text(int err)
{
	const char *text = strerrordesc_np(err);

	return text ? text : "unknown error";
}

int log_refuse(struct log_file *lf, const char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lf->detail, sizeof(lf->detail), fmt, ap);
	va_end(ap);
	lf->why = why;
	lf->failed = true;
	return -1;
}

static void fail_errno(struct log_file *lf, int err)
{
	log_refuse(lf, log_error_text(err), "%s", log_error_text(err));
}

/* All of text, looping on short writes; *done says how much went out, even on error. */
static int write_all(int fd, const void *text, size_t len, size_t *done)
{
	for (*done = 0; *done < len;) {
		ssize_t n = write(fd, (const char *)text + *done, len - *done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errno = n < 0 ? errno : ENOSPC;
			return -1;
		}
		*done += (size_t)n;
	}
	return 0;
}

/* The file ends with tail bytes this snapshot left unfinished: cut them off. Counted from
 * the file's size now, so it holds even if logrotate (copytruncate) emptied it meanwhile. */
static void cut_back(struct log_file *lf, size_t tail)
{
	struct stat st;
	size_t used;

	if (tail == 0)
		return;
	if (fstat(lf->fd, &st) == 0 &&
	    ftruncate(lf->fd, st.st_size > (off_t)tail ? st.st_size - (off_t)tail : 0) == 0)
		return;
	used = strlen(lf->detail);
	snprintf(lf->detail + used, sizeof(lf->detail) - used,
		 ", and the partial row left could not be cut off (%s)", log_error_text(errno));
}

/* ---------------------------------------------------------------- plain text */

static void plain_write(struct log_file *lf, const char *lines, size_t len)
{
	size_t done, whole;
	int err;

	if (write_all(lf->fd, lines, len, &done) == 0)
		return;
	err = errno;
	fail_errno(lf, err);
	for (whole = done; whole > 0 && lines[whole - 1] != '\n'; whole--)
		;
	cut_back(lf, done - whole);
}

/* ---------------------------------------------------------------- gzip */

static int member_make_room(struct log_file *lf)
{
	size_t room = lf->member_room ? lf->member_room : MEMBER_MIN_ROOM;
	unsigned char *bigger;

	if (lf->member_room - lf->member_len >= MEMBER_SPARE)
		return 0;
	while (room - lf->member_len < MEMBER_SPARE)
		room *= 2;
	bigger = realloc(lf->member, room);
	if (!bigger)
		return -1;
	lf->member = bigger;
	lf->member_room = room;
	return 0;
}

/* Compresses text into the snapshot's member; flush Z_FINISH ends the member. */
static void member_add(struct log_file *lf, const char *text, size_t len, int flush)
{
	lf->z.next_in = (Bytef *)text;
	lf->z.avail_in = (uInt)len;
	for (;;) {
		int rc;

		if (member_make_room(lf) < 0) {
			fail_errno(lf, ENOMEM);
			return;
		}
		lf->z.next_out = lf->member + lf->member_len;
		lf->z.avail_out = (uInt)(lf->member_room - lf->member_len);
		rc = deflate(&lf->z, flush);
		lf->member_len = (size_t)(lf->z.next_out - lf->member);
		if (rc == Z_STREAM_END || (flush == Z_NO_FLUSH && lf->z.avail_in == 0))
			return;
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			log_refuse(lf, "zlib failed", "zlib failed (%s)", zError(rc));
			return;
		}
	}
}

/* The whole member with one write(): after any way of dying, zcat reads every snapshot
 * whose write returned. */
static void member_write(struct log_file *lf)
{
	size_t done;

	member_add(lf, NULL, 0, Z_FINISH);
	if (lf->failed)
		return;
	if (write_all(lf->fd, lf->member, lf->member_len, &done) < 0) {
		fail_errno(lf, errno);
		cut_back(lf, done);
	}
}

/* ---------------------------------------------------------------- snapshots */

/* A binary snapshot is kept whole in memory, then written with one write(). */
static void binary_add(struct log_file *lf, const char *bytes, size_t len)
{
	while (lf->member_room - lf->member_len < len + MEMBER_SPARE) {
		size_t room = lf->member_room ? lf->member_room * 2 : MEMBER_MIN_ROOM;
		unsigned char *bigger = realloc(lf->member, room);

		if (!bigger) {
			fail_errno(lf, ENOMEM);
			return;
		}
		lf->member = bigger;
		lf->member_room = room;
	}
	memcpy(lf->member + lf->member_len, bytes, len);
	lf->member_len += len;
}

static void binary_write(struct log_file *lf)
{
	size_t done;

	if (write_all(lf->fd, lf->member, lf->member_len, &done) < 0) {
		fail_errno(lf, errno);
		cut_back(lf, done);
	}
}

static void add_text(struct log_file *lf, const char *text, size_t len)
{
	if (lf->binary)
		binary_add(lf, text, len);
	else if (lf->gzip)
		member_add(lf, text, len, Z_NO_FLUSH);
	else
		plain_write(lf, text, len);
}

/* An empty file gets the header first: a new one, one logrotate created, or one it
 * emptied (copytruncate). */
static void add_header_if_empty(struct log_file *lf)
{
	char header[FORMAT_LINE_MAX];
	size_t len = lf->format == FORMAT_CSV && !lf->binary ? log_kind_header(lf->kind, header)
							     : 0;
	struct stat st;

	if (fstat(lf->fd, &st) < 0)
		fail_errno(lf, errno);
	else if (st.st_size == 0 && lf->binary)
		add_text(lf, (const char *)lf->kind->header, lf->kind->header_len);
	else if (st.st_size == 0 && len > 0)
		add_text(lf, header, len);
}

void log_file_begin(struct log_file *lf)
{
	unsigned asked = atomic_load_explicit(&lf->reopen_requests, memory_order_acquire);

	bool reopen = asked != lf->reopens_done;

	lf->failed = false;
	if (reopen) {
		lf->reopens_done = asked;
		if (lf->fd >= 0)
			close(lf->fd);
		lf->fd = -1;
	}
	/* A failed open is retried at every snapshot. */
	if (lf->fd < 0) {
		if (log_open_path(lf) < 0)
			return;
		if (reopen)
			report_verbose("%s '%s' reopened (SIGHUP)", lf->kind->noun, lf->path);
	}
	lf->member_len = 0;
	if (lf->gzip && deflateReset(&lf->z) != Z_OK) {
		log_refuse(lf, "zlib failed", "zlib failed to start a member");
		return;
	}
	add_header_if_empty(lf);
}

void log_file_append(struct log_file *lf, const char *text, size_t len)
{
	if (!lf->failed && len > 0)
		add_text(lf, text, len);
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* Said once when the log starts failing, once when it works again. */
static void update_health(struct log_file *lf)
{
	if (lf->failed) {
		lf->lost++;
		atomic_store_explicit(&lf->health.lost, lf->lost, memory_order_relaxed);
		if (lf->failing)
			return;
		lf->failing = true;
		atomic_store_explicit(&lf->health.failing, lf->why, memory_order_release);
		report_error("%s '%s' is failing: %s; %llu %s%s not logged so far, retrying each "
			     "interval",
			     lf->kind->noun, lf->path, lf->detail, (unsigned long long)lf->lost,
			     lf->kind->unit, plural(lf->lost));
	} else if (lf->failing) {
		lf->failing = false;
		atomic_store_explicit(&lf->health.failing, NULL, memory_order_release);
		report_error("%s '%s' works again; %llu %s%s could not be logged", lf->kind->noun,
			     lf->path, (unsigned long long)lf->lost, lf->kind->unit,
			     plural(lf->lost));
	}
}

void log_file_end(struct log_file *lf, bool whole)
{
	if (!whole) {
		lf->fresh = true;
		return;
	}
	if (lf->binary && !lf->failed)
		binary_write(lf);
	else if (lf->gzip && !lf->failed)
		member_write(lf);
	lf->fresh = lf->failed;
	update_health(lf);
}

bool log_file_fresh(const struct log_file *lf)
{
	return lf->fresh;
}

void log_file_skipped(struct log_file *lf, uint64_t n)
{
	lf->lost += n;
	atomic_store_explicit(&lf->health.lost, lf->lost, memory_order_relaxed);
}

/* ---------------------------------------------------------------- the file */

size_t log_kind_header(const struct log_kind *kind, char *out)
{
	char *p = out;

	for (size_t i = 0; i < kind->count; i++) {
		size_t n = strlen(kind->names[i]);

		if (i > 0)
			*p++ = ',';
		memcpy(p, kind->names[i], n);
		p += n;
	}
	*p++ = '\n';
	return (size_t)(p - out);
}

struct log_file *log_file_open(const char *path, enum output_format format,
			       const struct log_kind *kind)
{
	struct log_file *lf = calloc(1, sizeof(*lf));
	size_t len = strlen(path);

	if (!lf) {
		report_error("%s '%s': out of memory", kind->option, path);
		return NULL;
	}
	lf->path = path;
	lf->format = format;
	lf->kind = kind;
	lf->fd = -1;
	lf->binary = kind->header != NULL;
	lf->gzip = !lf->binary && len > 3 && strcmp(path + len - 3, ".gz") == 0;
	/* windowBits 15 + 16: a gzip wrapper around the deflate stream. */
	if (lf->gzip && deflateInit2(&lf->z, LOG_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8,
				     Z_DEFAULT_STRATEGY) != Z_OK) {
		report_error("%s '%s': zlib cannot start (out of memory?)", kind->option, path);
		free(lf);
		return NULL;
	}
	lf->z_ready = lf->gzip;
	if (log_open_path(lf) < 0) {
		report_error("%s '%s': %s", kind->option, path, lf->detail);
		log_file_close(lf);
		return NULL;
	}
	return lf;
}

void log_file_close(struct log_file *lf)
{
	if (!lf)
		return;
	if (lf->lost)
		report_error("%s '%s': %llu %s%s of this run could not be logged", lf->kind->noun,
			     lf->path, (unsigned long long)lf->lost, lf->kind->unit,
			     plural(lf->lost));
	if (lf->fd >= 0)
		close(lf->fd);
	if (lf->z_ready)
		deflateEnd(&lf->z);
	free(lf->member);
	free(lf);
}

void log_file_request_reopen(struct log_file *lf)
{
	atomic_fetch_add_explicit(&lf->reopen_requests, 1, memory_order_release);
}

const struct log_health *log_file_health(const struct log_file *lf)
{
	return &lf->health;
}

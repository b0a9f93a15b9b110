/* Opening the --log path as root in a directory others may write to: no symbolic link is
 * followed, only a regular file is written (a FIFO cannot hang the open), a new file is
 * 0600, an existing one is appended to only if its first line is this version's header
 * (no mixed schemas), after what a killed run left unfinished is cut off (log_repair.c). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "view/columns.h"
#include "output/log_file_impl.h"
#include "util/report.h"

#define NEW_SCHEMA_TODO "log to a new file, or move this one away"
#define FIELD_SHOWN_MAX 40

/* What a path that is not a regular file is (NULL for a regular file), and what to do. */
static const char *not_regular(mode_t mode, const char **todo)
{
	*todo = "tcptop logs only to regular files";
	if (S_ISREG(mode))
		return NULL;
	if (S_ISLNK(mode)) {
		*todo = "give the path of the file itself";
		return "is a symbolic link; refusing to follow it";
	}
	if (S_ISDIR(mode)) {
		*todo = "give the path of a file in it";
		return "is a directory";
	}
	if (S_ISFIFO(mode))
		return "is a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "is a device";
	if (S_ISSOCK(mode))
		return "is a socket";
	return "is not a regular file";
}

static int refuse_type(struct log_file *lf, mode_t mode)
{
	const char *todo, *what = not_regular(mode, &todo);

	return log_refuse(lf, what, "%s; %s", what, todo);
}

static int open_failed(struct log_file *lf, int err)
{
	char *copy = strdup(lf->path);
	struct stat st;
	int status;

	if (lstat(lf->path, &st) == 0 && !S_ISREG(st.st_mode))
		status = refuse_type(lf, st.st_mode);
	else if (err == ENOENT && copy)
		status = log_refuse(lf, "its directory does not exist",
				    "directory '%s' does not exist; create it first",
				    dirname(copy));
	else
		status = log_refuse(lf, log_error_text(err), "%s", log_error_text(err));
	free(copy);
	return status;
}

/* ---------------------------------------------------------------- the first line */

/* Up to FORMAT_LINE_MAX bytes of the first line, without its newline, into line. */
static int plain_first_line(struct log_file *lf, int rfd, char *line)
{
	ssize_t n = pread(rfd, line, FORMAT_LINE_MAX, 0);
	char *end = n > 0 ? memchr(line, '\n', (size_t)n) : NULL;

	if (n < 0)
		return log_refuse(lf, log_error_text(errno), "cannot read its first line (%s)",
				  log_error_text(errno));
	if (!end)
		return log_refuse(lf, "not a tcptop log",
				  "its first line is not a tcptop log's "
				  "(no line end in its first %d bytes); " NEW_SCHEMA_TODO,
				  FORMAT_LINE_MAX);
	*end = '\0';
	return 0;
}

/* The same through zlib: gzip members one after the other read as one stream. */
static int gzip_first_line(struct log_file *lf, int rfd, char *line)
{
	unsigned char magic[2];
	int copy;
	gzFile gz;
	char *end;

	if (pread(rfd, magic, 2, 0) != 2 || magic[0] != 0x1f || magic[1] != 0x8b)
		return log_refuse(lf, "not a gzip file",
				  "is not a gzip file, though its name "
				  "ends in .gz; " NEW_SCHEMA_TODO);
	copy = fcntl(rfd, F_DUPFD_CLOEXEC, 0);
	gz = copy >= 0 ? gzdopen(copy, "rb") : NULL;
	if (!gz) {
		if (copy >= 0)
			close(copy);
		return log_refuse(lf, "out of memory", "cannot read it (out of memory)");
	}
	end = gzgets(gz, line, FORMAT_LINE_MAX);
	end = end ? strchr(line, '\n') : NULL;
	gzclose(gz);
	if (!end)
		return log_refuse(
			lf, "not a tcptop log",
			"its first line is not a tcptop log's "
			"(not readable, or no line end in its first %d bytes); " NEW_SCHEMA_TODO,
			FORMAT_LINE_MAX);
	*end = '\0';
	return 0;
}

/* ---------------------------------------------------------------- the header */

static size_t count_fields(const char *line)
{
	size_t n = 1;

	for (; *line; line++)
		n += *line == ',';
	return n;
}

/* Names the first column where the file's header and this version's differ. */
static int csv_header_differs(struct log_file *lf, const char *ours, const char *theirs)
{
	size_t ours_count = count_fields(ours), theirs_count = count_fields(theirs);

	for (size_t column = 1;; column++) {
		size_t a = strcspn(ours, ","), b = strcspn(theirs, ",");

		int shown = (int)(b < FIELD_SHOWN_MAX ? b : FIELD_SHOWN_MAX);

		if (a != b || memcmp(ours, theirs, a) != 0)
			return log_refuse(lf, "its header differs from this version's",
					  "column %zu is '%.*s' in this version, '%.*s' in the "
					  "file; " NEW_SCHEMA_TODO,
					  column, (int)a, ours, shown, theirs);
		if (!ours[a] || !theirs[b])
			break;
		ours += a + 1;
		theirs += b + 1;
	}
	return log_refuse(lf, "its header differs from this version's",
			  "the file has %zu columns, this version writes %zu; " NEW_SCHEMA_TODO,
			  theirs_count, ours_count);
}

/* A JSONL log's first line must be an object with this version's keys, in order. */
static int jsonl_header_differs(struct log_file *lf, const char *line)
{
	char key[FORMAT_JSON_KEY_SIZE + 4];
	const char *at = line;

	if (line[0] != '{' || line[strlen(line) - 1] != '}')
		return log_refuse(
			lf, "its first line is not a JSON object",
			"its first line is not a JSON object (a CSV log?); " NEW_SCHEMA_TODO);
	for (size_t i = 0; i < lf->kind->count; i++) {
		snprintf(key, sizeof(key), "\"%s\":", lf->kind->names[i]);
		at = strstr(at, key);
		if (!at)
			return log_refuse(lf, "its keys differ from this version's",
					  "its first row has no key '%s' where this version writes "
					  "one; " NEW_SCHEMA_TODO,
					  lf->kind->names[i]);
		at += strlen(key);
	}
	return 0;
}

static int check_header(struct log_file *lf, const char *line)
{
	char header[FORMAT_LINE_MAX];
	size_t len;

	if (lf->format == FORMAT_JSONL)
		return jsonl_header_differs(lf, line);
	len = log_kind_header(lf->kind, header);
	header[len - 1] = '\0'; /* its newline */
	return strcmp(header, line) == 0 ? 0 : csv_header_differs(lf, header, line);
}

/* A binary file's own check: its header, and an incomplete end cut off. */
static int check_binary(struct log_file *lf, int rfd, int wfd, off_t size)
{
	char why[LOG_DETAIL_MAX - 64];

	if (lf->kind->check(lf->path, rfd, wfd, size, why, sizeof(why)) == 0)
		return 0;
	return log_refuse(lf, "not a recording of this format", "%s; " NEW_SCHEMA_TODO, why);
}

/* The file is not empty: read its first line through a read-only open of the same file
 * (the log's own descriptor is write-only). */
static int check_existing(struct log_file *lf, int wfd, const struct stat *written)
{
	char line[FORMAT_LINE_MAX + 1];
	int rfd = open(lf->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	int status;

	if (rfd < 0)
		return log_refuse(lf, log_error_text(errno),
				  "cannot read it to check its header (%s)", log_error_text(errno));
	if (fstat(rfd, &st) < 0 || st.st_dev != written->st_dev || st.st_ino != written->st_ino)
		status = log_refuse(lf, "was replaced while being opened",
				    "was replaced while tcptop opened it; try again");
	else if (lf->kind->check)
		status = check_binary(lf, rfd, wfd, st.st_size);
	else if (lf->gzip)
		status = gzip_first_line(lf, rfd, line);
	else
		status = plain_first_line(lf, rfd, line);
	if (status == 0 && !lf->kind->check)
		status = check_header(lf, line);
	if (status == 0 && !lf->kind->check)
		log_repair_tail(lf, rfd, wfd, st.st_size);
	close(rfd);
	return status;
}

/* ---------------------------------------------------------------- opening */

int log_open_path(struct log_file *lf)
{
	struct stat st;
	int fd;

	/* Not even opened when it is something else (opening some devices does things). */
	if (lstat(lf->path, &st) == 0 && !S_ISREG(st.st_mode))
		return refuse_type(lf, st.st_mode);
	/* O_NOFOLLOW: a link planted since is refused (ELOOP); O_NONBLOCK: so is a FIFO. */
	fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
		  0600);
	if (fd < 0)
		return open_failed(lf, errno);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return open_failed(lf, errno);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return refuse_type(lf, st.st_mode);
	}
	if (fcntl(fd, F_SETFL, O_APPEND) < 0 ||
	    (st.st_size > 0 && check_existing(lf, fd, &st) < 0)) {
		if (!lf->failed)
			log_refuse(lf, log_error_text(errno), "%s", log_error_text(errno));
		close(fd);
		return -1;
	}
	lf->fd = fd;
	lf->fresh = true;
	return 0;
}

/* The tcptoprc file (config/tcptoprc.h): read with inih, a reader that counts lines so
 * that every warning names its line; written whole beside the old one and renamed. */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/parse.h"
#include "config/tcptoprc.h"

#define LINE_MAX_BYTES 512

/* inih's stream and handler state: the line it read last, for the warnings. */
struct reading {
	FILE *file;
	const char *path;
	int line;
	int warnings;
	struct options *opt;
};

__attribute__((format(printf, 2, 3))) static void warn(struct reading *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tcptop: warning: %s:%d: ", r->path, r->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (line ignored)\n", stderr);
	r->warnings++;
}

/* A line inih would take neither as a comment, a section nor "key = value": inih reports
 * only the first such line, so each is told here as it is read. */
static void check_shape(struct reading *r, const char *line)
{
	line += strspn(line, " \t");
	if (!*line || *line == '\n' || *line == ';' || *line == '#')
		return;
	if (*line == '[')
		warn(r, "sections are not used");
	else if (!strpbrk(line, "=:"))
		warn(r, "not a 'key = value' line");
}

static char *read_line(char *str, int num, void *stream)
{
	struct reading *r = stream;
	char *line = fgets(str, num, r->file);

	if (line) {
		r->line++;
		check_shape(r, line);
	}
	return line;
}

/* yes/no, true/false, on/off, 1/0; -1 for anything else. */
static int parse_bool(const char *value)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(value, yes[i]) == 0)
			return 1;
		if (strcasecmp(value, no[i]) == 0)
			return 0;
	}
	return -1;
}

static bool *bool_setting(struct options *opt, const char *name)
{
	if (strcmp(name, "reverse") == 0)
		return &opt->sort_reverse;
	if (strcmp(name, "bits") == 0)
		return &opt->bits;
	if (strcmp(name, "hide_idle") == 0)
		return &opt->hide_idle;
	if (strcmp(name, "hide_listen") == 0)
		return &opt->hide_listen;
	if (strcmp(name, "hide_time_wait") == 0)
		return &opt->hide_time_wait;
	return NULL;
}

static double *rate_setting(struct options *opt, const char *name)
{
	if (strcmp(name, "heat_cool") == 0)
		return &opt->heat[0];
	if (strcmp(name, "heat_warm") == 0)
		return &opt->heat[1];
	if (strcmp(name, "heat_hot") == 0)
		return &opt->heat[2];
	if (strcmp(name, "alert") == 0)
		return &opt->alert_bytes_per_s;
	return NULL;
}

/* The columns value, kept for the run: options point at it as they do at argv. */
static char columns_value[LINE_MAX_BYTES];

static void apply_columns(struct reading *r, const char *value)
{
	struct column_list defaults, chosen;
	const char *bad;
	size_t bad_len;

	column_list_defaults(&defaults);
	if (column_list_choose(value, &defaults, &chosen, &bad, &bad_len) < 0) {
		warn(r, "columns: '%.*s' is not a column", (int)(bad_len < 40 ? bad_len : 40), bad);
		return;
	}
	snprintf(columns_value, sizeof(columns_value), "%s", value);
	r->opt->columns_text = columns_value;
	r->opt->columns_from_config = true;
}

static int handle(void *user, const char *section, const char *name, const char *value)
{
	struct reading *r = user;
	struct options *opt = r->opt;
	const char *why = NULL;
	bool *flag = bool_setting(opt, name);
	double *rate = rate_setting(opt, name);
	uint64_t ns;
	int b, id;

	(void)section; /* said once by check_shape() */
	if (flag && (b = parse_bool(value)) >= 0)
		*flag = b;
	else if (flag)
		warn(r, "%s: '%s' is not yes or no", name, value);
	else if (rate && parse_rate(value, rate, &why) == 0)
		opt->alert |= rate == &opt->alert_bytes_per_s;
	else if (rate)
		warn(r, "%s: '%s' %s", name, value, why);
	else if (strcmp(name, "dns") == 0 && (b = parse_bool(value)) >= 0)
		opt->no_resolve = !b;
	else if (strcmp(name, "dns") == 0)
		warn(r, "dns: '%s' is not yes or no", value);
	else if (strcmp(name, "sort") == 0 && (id = column_lookup(value)) >= 0 &&
		 column_sorts(id)) {
		opt->sort_column = id;
		opt->sort_from_config = true;
	} else if (strcmp(name, "sort") == 0)
		warn(r, "sort: '%s' is not a column", value);
	else if (strcmp(name, "interval") == 0 && parse_duration_ns(value, &ns, &why) == 0 &&
		 ns >= MIN_INTERVAL_NS)
		opt->interval_ns = ns;
	else if (strcmp(name, "interval") == 0)
		warn(r, "interval: '%s' %s", value, why ? why : "must be at least 10ms");
	else if (strcmp(name, "columns") == 0)
		apply_columns(r, value);
	else
		warn(r, "unknown setting '%s'", name);
	return 1;
}

bool tcptoprc_path(char *out, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(out, len, "%s/tcptop/tcptoprc", xdg);
	else if (home && home[0] == '/')
		n = snprintf(out, len, "%s/.config/tcptop/tcptoprc", home);
	else
		return false;
	return n > 0 && (size_t)n < len;
}

int tcptoprc_apply(const char *path, struct options *opt)
{
	struct reading r = { .path = path, .opt = opt };
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(r.file = fdopen(fd, "r"))) {
		fprintf(stderr, "tcptop: warning: %s: %s (settings not read)\n", path,
			fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return 1;
	}
	ini_parse_stream(read_line, &r, handle, &r);
	fclose(r.file);
	return r.warnings;
}

/* ---------------------------------------------------------------- writing */

static const char *const view_keys[] = {
	"sort", "reverse", "bits", "hide_idle", "hide_listen", "hide_time_wait", "dns", "columns",
};

/* Whether line sets one of the keys the view writes (those lines are written anew). */
static bool is_view_line(const char *line)
{
	line += strspn(line, " \t");
	for (size_t i = 0; i < sizeof(view_keys) / sizeof(view_keys[0]); i++) {
		size_t n = strlen(view_keys[i]);

		if (strncmp(line, view_keys[i], n) == 0 && strchr(" \t=:", line[n]))
			return true;
	}
	return false;
}

static void write_columns(FILE *out, const struct column_list *list)
{
	fputs("columns = ", out);
	for (int i = 0; i < list->count; i++)
		fprintf(out, "%s%s", i ? "," : "", column_name(list->id[i]));
	fputc('\n', out);
}

static void write_view(FILE *out, const struct tcptoprc_view *v)
{
	fprintf(out,
		"sort = %s\nreverse = %s\nbits = %s\nhide_idle = %s\nhide_listen = %s\n"
		"hide_time_wait = %s\ndns = %s\n",
		v->sort, v->reverse ? "yes" : "no", v->bits ? "yes" : "no",
		v->hide_idle ? "yes" : "no", v->hide_listen ? "yes" : "no",
		v->hide_time_wait ? "yes" : "no", v->dns ? "yes" : "no");
	write_columns(out, v->shown);
}

/* mkdir -p of path's directory, 0700 for what it makes. */
static int make_dirs(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* Root saving into $XDG_CONFIG_HOME of a sudo -E: the file's directory must be a real
 * directory of the writer's own, not a link another user made to put root's file elsewhere. */
static int own_directory(char *path)
{
	char *slash = strrchr(path, '/');
	struct stat st;
	int ok;

	*slash = '\0';
	ok = lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid();
	*slash = '/';
	return ok ? 0 : (errno = EPERM, -1);
}

int tcptoprc_save(const char *path, const struct tcptoprc_view *view)
{
	char tmp[4096], line[LINE_MAX_BYTES];
	FILE *old, *out;
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return errno = ENAMETOOLONG, -1;
	if (make_dirs(tmp) < 0 || own_directory(tmp) < 0)
		return -1;
	unlink(tmp); /* one left by a run that died while writing */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(out = fdopen(fd, "w"))) {
		err = errno;
		if (fd >= 0)
			close(fd);
		return errno = err, -1;
	}
	old = fopen(path, "re");
	if (!old)
		fputs("# tcptop's settings (tcptop(8), FILES): written by the live view when it "
		      "quits\n# after a change; the command line overrides them.\n",
		      out);
	while (old && fgets(line, sizeof(line), old)) {
		size_t n = strlen(line);

		if (!is_view_line(line))
			fprintf(out, "%s%s", line, n && line[n - 1] == '\n' ? "" : "\n");
	}
	if (old)
		fclose(old);
	write_view(out, view);
	err = fflush(out) || fsync(fileno(out)) ? errno : 0;
	if (fclose(out) && !err)
		err = errno;
	if (!err && rename(tmp, path) < 0)
		err = errno;
	if (err)
		unlink(tmp);
	return err ? (errno = err, -1) : 0;
}

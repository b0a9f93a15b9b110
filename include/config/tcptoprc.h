/* Remembered settings: $XDG_CONFIG_HOME/tcptop/tcptoprc (default ~/.config/tcptop/tcptoprc),
 * "key = value" lines (tcptop(8), FILES). Read at start in every mode, before the command
 * line, which overrides it; written by the live view when the user quits after changing
 * one of its settings. A broken line is one warning and is otherwise ignored. */
#ifndef TCPTOP_TCPTOPRC_H
#define TCPTOP_TCPTOPRC_H

#include <stdbool.h>
#include <stddef.h>
#include "options.h"

/* The file's path into out; false when neither XDG_CONFIG_HOME nor HOME says where. */
bool tcptoprc_path(char *out, size_t len);

/* Applies the file at path to opt (already at its defaults); warns on stderr, naming the
 * file and line, for each line it cannot use. A missing file is no settings, silently;
 * an unreadable one is one warning. Returns how many warnings it gave. */
int tcptoprc_apply(const char *path, struct options *opt);

/* The live view's settings, as it leaves them. */
struct tcptoprc_view {
	const char *sort; /* a column name or "rate" */
	bool reverse;
	bool bits;
	bool hide_idle, hide_listen, hide_time_wait;
	bool dns;
	const struct column_list *shown; /* the live view's columns */
};

/* Writes the view's settings into the file at path, keeping its other lines (comments,
 * interval, thresholds): a new file beside it, mode 0600, renamed over it; the directory
 * made (0700) when missing. 0, or -1 with errno. */
int tcptoprc_save(const char *path, const struct tcptoprc_view *view);

#endif

/* The live view's keys, one line each: its help screen and --help print the same text. */
#ifndef TCPTOP_UI_HELP_H
#define TCPTOP_UI_HELP_H

/* NULL-terminated; each line is at most 78 columns and starts with two spaces. */
extern const char *const ui_help_keys[];

#endif

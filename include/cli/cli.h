/* Command-line parsing: tcptop [options] [interval [count]]. */
#ifndef TCPTOP_CLI_H
#define TCPTOP_CLI_H

#include <stddef.h>
#include "options.h"

enum cli_result {
	CLI_RUN,         /* options are valid: run */
	CLI_EXIT_OK,     /* --help was printed: exit 0 */
	CLI_VERSION,     /* -V: print the version and probe the hook set (opt is valid) */
	CLI_USAGE_ERROR, /* message holds one line naming the option and what is wrong */
};

/* Parses argv into *opt (defaults first) and checks what can be checked without side
 * effects beyond lookups: the interface exists; the log path is not empty (the log file
 * checks the rest when it is opened). Help/version go to stdout. */
enum cli_result cli_parse(int argc, char **argv, struct options *opt, char *message,
			  size_t message_len);
void cli_free(struct options *opt);

#endif

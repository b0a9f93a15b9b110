/* The live view's keys: shown by "?" and printed by --help, so the two cannot differ; a
 * unit test checks that every key bound in ui_keys.c is named here, and only those. */
#include <stddef.h>
#include "ui/ui_help.h"

const char *const ui_help_keys[] = {
	"  q, F10, Ctrl-C    quit",
	"  /, \\, F4          filter: words a row must all match (process name, pid,",
	"                    port, part of an address); port:N pid:N proc:NAME narrow",
	"                    a word; Enter applies, Esc cancels, empty clears",
	"  < or , and > or .   sort by the previous / next column",
	"  s, F6             pick the sort column from a list",
	"  r, I              reverse the sort order",
	"  c                 choose the columns shown: Space shows or hides one, Enter",
	"                    closes the list (-o sets them at start)",
	"  p, Z              pause: the screen keeps its rows; scroll and sort still work",
	"  n                 peer names from reverse DNS, or addresses (as -n at start)",
	"  b                 rates in bits/s (kb/s, Mb/s, Gb/s: powers of 1000) or",
	"                    bytes/s (KiB/s, MiB/s, GiB/s: powers of 1024)",
	"  w                 rate columns: last interval, 2s, 10s, 40s averages",
	"  i                 hide idle flows (no bytes in the last interval)",
	"  l, t              hide LISTEN / TIME_WAIT rows",
	"  o                 tcptop's own cost: a header line with its CPU share and,",
	"                    while BPF stats are on, its programs' ns/event and events/s",
	"  Up, k, Down, j    move the highlight; it follows its flow",
	"  PgUp, PgDn, Space, Home, End   a page up or down, the first or last row",
	"  Ctrl-L            redraw the screen",
	"  Mouse             click a column title to sort by it (again: reverse), a row",
	"                    to highlight it; the wheel scrolls (--no-mouse: off)",
	"  Reading a recording (-r), the header shows the recorded time:",
	"  P                 pause or play (at the recorded pace, or faster)",
	"  ], [              the next / previous snapshot (and pause)",
	"  +, -              play twice as fast / half as fast (1x to 64x)",
	"  J                 jump to a time: ISO-8601 as the CSV prints it, at any",
	"                    precision, or HH:MM[:SS]; the first snapshot at or after it",
	"  ?, h, F1          this help",
	"  Rate cells: green from 1 KiB/s, yellow from 100 KiB/s, red from 10 MiB/s.",
	NULL,
};

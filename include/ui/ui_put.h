/* Text on the live view's screen, for the parts that draw (ui_draw.c, ui_detail.c). */
#ifndef TCPTOP_UI_PUT_H
#define TCPTOP_UI_PUT_H

#include <stdbool.h>
#include <ncurses.h>
#include "ui/ui_state.h"

/* Text at (y, x) cut to the screen's width: nothing wraps, and nothing the terminal would
 * act on reaches it (process names, DNS answers and typed filters come from outside).
 * Returns the column after it. */
__attribute__((format(printf, 6, 7))) int ui_put(const struct ui *ui, int y, int x, attr_t attr,
						 bool keep_tail, const char *fmt, ...);

#endif

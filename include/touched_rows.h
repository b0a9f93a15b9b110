/* Where each of the last few snapshot builds wrote rows. The memory of a released
 * snapshot comes back to the builder (the feed's spare) still holding that snapshot's
 * rows; copying only the rows written since brings it up to the last snapshot, instead
 * of copying every row. Used by the compute thread alone. */
#ifndef TCPTOP_TOUCHED_ROWS_H
#define TCPTOP_TOUCHED_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOUCHED_HISTORY 4

struct touched_build {
	uint64_t generation; /* of the snapshot built; 0 for none */
	bool all;            /* rows laid out anew, or a place not recorded: any row */
	uint32_t *places;    /* rows written, in no order, maybe twice, until settled */
	size_t n, room;
};

struct touched_rows {
	struct touched_build builds[TOUCHED_HISTORY]; /* by generation % TOUCHED_HISTORY */
	struct touched_build *current;
	uint64_t *bits; /* all clear between uses: settling the current build's places */
	size_t nbits;   /* words of it */
};

/* Start recording the build of generation (> 0). */
void touched_rows_begin(struct touched_rows *t, uint64_t generation);
/* The build writes the row at place. */
void touched_rows_add(struct touched_rows *t, size_t place);
/* The build writes every row. */
void touched_rows_all(struct touched_rows *t);
/* The current build's record, its places now ascending and each once; NULL when it
 * says "all". */
const struct touched_build *touched_rows_settle(struct touched_rows *t);
/* The record of the build of generation: NULL when it is gone or says "all". */
const struct touched_build *touched_rows_of(const struct touched_rows *t, uint64_t generation);
/* Whether every build after generation up to last is on record, row by row. */
bool touched_rows_since(const struct touched_rows *t, uint64_t generation, uint64_t last);
void touched_rows_free(struct touched_rows *t);

#endif

/* Open-addressing indexes (util/open_index.h). */
#include <stdbool.h>
#include <stdlib.h>
#include "util/open_index.h"

int open_index_reset(struct open_index *x, size_t count)
{
	size_t n = 64;

	while (n < 2 * count + 2)
		n *= 2;
	if (n != x->n) {
		uint32_t *slot = malloc(n * sizeof(*slot));

		if (!slot)
			return -1;
		free(x->slot);
		x->slot = slot;
		x->n = n;
	}
	memset(x->slot, 0, n * sizeof(*x->slot));
	return 0;
}

void open_index_put(struct open_index *x, uint64_t h, uint32_t place)
{
	size_t i = h & (x->n - 1);

	while (x->slot[i])
		i = (i + 1) & (x->n - 1);
	x->slot[i] = place + 1;
}

void open_index_free(struct open_index *x)
{
	free(x->slot);
	x->slot = NULL;
	x->n = 0;
}

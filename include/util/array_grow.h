/* Growing an array with realloc without losing it when realloc fails. */
#ifndef TCPTOP_ARRAY_GROW_H
#define TCPTOP_ARRAY_GROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/* *array resized to n elements of size bytes; false (and *array as it was) on failure. */
static inline bool array_grow(void **array, size_t n, size_t size)
{
	void *grown = realloc(*array, n * size);

	if (!grown)
		return false;
	*array = grown;
	return true;
}

#endif

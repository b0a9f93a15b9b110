/* Objects of one size that one thread (the taker) makes and any thread hands back, kept
 * for reuse instead of free() in one thread and malloc() in another (under churn, glibc's
 * cross-thread frees were a fifth of tcptop's CPU: doc/design.md, "Recycled nodes").
 * Givers push onto a returned stack with a C11 compare-and-swap; the taker takes the
 * stack whole (an exchange: no ABA, and any number of takers may share one stack) into
 * its own spares. An object kept links through the pointer `link` bytes into it; the rest
 * of it is poisoned for AddressSanitizer. */
#ifndef TCPTOP_UTIL_SPARES_H
#define TCPTOP_UTIL_SPARES_H

#include <stddef.h>

struct spares {
	void **returned;     /* the stack its givers push onto (__atomic) */
	void *head;          /* the taker's own */
	size_t count, taken; /* taken: asked for since the last trim */
	size_t size, link;   /* the objects' size, their link's offset */
};

/* Spares of objects of type whose pointer member links them, given back onto *returned. */
#define SPARES_INIT(returned_, type, member)                                                       \
	((struct spares){                                                                          \
		.returned = (returned_), .size = sizeof(type), .link = offsetof(type, member) })

/* obj, no longer used, poisoned and linked before chain: a chain to give, from obj. */
void *spares_link(void *obj, void *chain, size_t size, size_t link);
/* The chain first..last (spares_link's) onto *stack; any thread. */
void spares_give(void **stack, void *first, void *last, size_t link);
/* A spare, unpoisoned, its bytes as they were; NULL when none is kept. The taker only. */
void *spares_take(struct spares *s);
/* Keeps as many spares as were asked for since the last trim (at least min), frees the
 * rest. */
void spares_trim(struct spares *s, size_t min);
/* Frees every spare kept and every one given back so far. */
void spares_free(struct spares *s);

#endif

/* Objects kept for reuse across threads (util/spares.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <sanitizer/asan_interface.h>
#include "util/spares.h"

static void **link_of(void *obj, size_t link)
{
	return (void **)((char *)obj + link);
}

void *spares_link(void *obj, void *chain, size_t size, size_t link)
{
	*link_of(obj, link) = chain;
	ASAN_POISON_MEMORY_REGION(obj, link);
	ASAN_POISON_MEMORY_REGION((char *)obj + link + sizeof(void *),
				  size - link - sizeof(void *));
	return obj;
}

void spares_give(void **stack, void *first, void *last, size_t link)
{
	void **last_link = link_of(last, link);

	*last_link = __atomic_load_n(stack, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(stack, last_link, first, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
}

/* Everything given back since the taker last looked, onto its own. */
static void take_returned(struct spares *s)
{
	void *obj = __atomic_exchange_n(s->returned, NULL, __ATOMIC_ACQUIRE), *next;

	for (; obj; obj = next) {
		next = *link_of(obj, s->link);
		*link_of(obj, s->link) = s->head;
		s->head = obj;
		s->count++;
	}
}

static void *pop(struct spares *s)
{
	void *obj = s->head;

	s->head = *link_of(obj, s->link);
	s->count--;
	ASAN_UNPOISON_MEMORY_REGION(obj, s->size);
	return obj;
}

void *spares_take(struct spares *s)
{
	s->taken++;
	if (!s->head)
		take_returned(s);
	return s->head ? pop(s) : NULL;
}

void spares_trim(struct spares *s, size_t min)
{
	size_t keep = s->taken > min ? s->taken : min;

	s->taken = 0;
	while (s->count > keep)
		free(pop(s));
}

void spares_free(struct spares *s)
{
	take_returned(s);
	while (s->head)
		free(pop(s));
	s->taken = 0;
}

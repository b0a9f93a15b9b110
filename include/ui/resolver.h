/* Reverse DNS off the UI thread: a small resolver thread with a cache. The UI asks for a
 * name while it draws and never waits: it shows the address until the name arrives, and
 * the resolver's eventfd tells it when to draw again. Failures are cached too, so an
 * address without a name is asked about once. */
#ifndef TCPTOP_RESOLVER_H
#define TCPTOP_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct resolver;

/* Starts the resolver thread; NULL (reported) on failure. */
struct resolver *resolver_new(void);
/* Stops the thread without waiting for a lookup in progress: a slow DNS server must not
 * hold up quitting. Frees everything once the thread is done. */
void resolver_free(struct resolver *r);
/* Readable when names have arrived since the last resolver_drain(). */
int resolver_fd(const struct resolver *r);
void resolver_drain(struct resolver *r);
/* The cached name of the address (family TCPTOP_AF_INET or TCPTOP_AF_INET6) into out:
 * true. Otherwise false, and the address is queued for a lookup unless it is already
 * queued or known to have no name. */
bool resolver_lookup(struct resolver *r, uint8_t family, const uint8_t addr[16], char *out,
		     size_t len);

#endif

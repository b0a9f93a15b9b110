/* The reverse DNS cache: names arrive later through the eventfd, never on the caller. */
#include <criterion/criterion.h>
#include <poll.h>
#include <string.h>

#include "ui/resolver.h"
#include "tcptop_shared.h"

static const uint8_t loopback_v4[16] = { 127, 0, 0, 1 };

/* Waits for the resolver's eventfd; false after timeout_ms. */
static bool wait_names(struct resolver *r, int timeout_ms)
{
	struct pollfd p = { .fd = resolver_fd(r), .events = POLLIN };

	if (poll(&p, 1, timeout_ms) != 1)
		return false;
	resolver_drain(r);
	return true;
}

Test(resolver, first_lookup_queues_and_name_arrives_later)
{
	struct resolver *r = resolver_new();
	char name[64] = "";

	cr_assert_not_null(r);
	cr_assert(!resolver_lookup(r, TCPTOP_AF_INET, loopback_v4, name, sizeof(name)),
		  "a name is never there on the first ask");
	cr_assert(wait_names(r, 10000), "no name for 127.0.0.1 within 10s");
	cr_assert(resolver_lookup(r, TCPTOP_AF_INET, loopback_v4, name, sizeof(name)));
	cr_assert_str_eq(name, "localhost");
	resolver_free(r);
}

Test(resolver, unknown_family_is_never_queued)
{
	struct resolver *r = resolver_new();
	char name[64];

	cr_assert(!resolver_lookup(r, 0, loopback_v4, name, sizeof(name)));
	cr_assert(!wait_names(r, 200));
	resolver_free(r);
}

Test(resolver, free_returns_while_lookups_are_pending)
{
	struct resolver *r = resolver_new();
	uint8_t addr[16] = { 192, 0, 2, 0 }; /* TEST-NET-1: may take the DNS timeout */
	char name[64];

	for (int i = 1; i < 50; i++) {
		addr[3] = (uint8_t)i;
		resolver_lookup(r, TCPTOP_AF_INET, addr, name, sizeof(name));
	}
	resolver_free(r);
}

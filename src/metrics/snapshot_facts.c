/* The facts a scrape shows of the last snapshot (metrics/snapshot_facts.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics/snapshot_facts.h"

int snapshot_facts_init(struct snapshot_facts *f, size_t top_n)
{
	memset(f, 0, sizeof(*f));
	if (!top_n)
		return 0;
	f->top = calloc(top_n, sizeof(*f->top));
	f->top_room = top_n;
	return f->top ? 0 : -1;
}

void snapshot_facts_free(struct snapshot_facts *f)
{
	free(f->top);
	memset(f, 0, sizeof(*f));
}

static void endpoint_text(uint8_t family, const uint8_t addr[16], uint16_t port, char *out,
			  size_t len)
{
	char host[ADDR_TEXT_LEN + 1];

	addr_format(family, addr, host, sizeof(host));
	snprintf(out, len, family == TCPTOP_AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}

static void set_top_flow(struct top_flow *t, const struct flow_row *row)
{
	memcpy(t->comm, row->id->comm, sizeof(t->comm));
	t->comm[TCPTOP_COMM_LEN - 1] = '\0';
	t->proto = row->id->proto;
	endpoint_text(row->id->family, row->id->laddr, row->id->lport, t->local, sizeof(t->local));
	endpoint_text(row->id->family, row->id->raddr, row->id->rport, t->remote,
		      sizeof(t->remote));
	t->tx_rate = row->tx_rate;
	t->rx_rate = row->rx_rate;
}

/* Keeps the top_room busiest open rows, highest first: an insertion into a short list. */
static void offer_top(struct snapshot_facts *f, const struct flow_row *row,
		      const struct flow_row **best)
{
	double rate = row->tx_rate + row->rx_rate;
	size_t i = f->ntop;

	if (row->closed || rate <= 0)
		return;
	if (i == f->top_room && rate <= best[i - 1]->tx_rate + best[i - 1]->rx_rate)
		return;
	if (i == f->top_room)
		i--;
	else
		f->ntop++;
	for (; i > 0 && best[i - 1]->tx_rate + best[i - 1]->rx_rate < rate; i--)
		best[i] = best[i - 1];
	best[i] = row;
}

static void take_top(struct snapshot_facts *f, const struct snapshot *s)
{
	const struct flow_row *best[f->top_room ? f->top_room : 1];

	f->ntop = 0;
	for (size_t i = 0; f->top_room && i < s->nrows; i++)
		offer_top(f, &s->rows[i], best);
	for (size_t i = 0; i < f->ntop; i++)
		set_top_flow(&f->top[i], best[i]);
}

void snapshot_facts_take(struct snapshot_facts *f, const struct snapshot *s,
			 const struct loss_sources *sources)
{
	f->seen = true;
	f->generation = s->generation;
	f->time = s->time;
	f->build_ns = s->build_ns;
	f->tcp_flows = s->totals.tcp_flows;
	f->udp_flows = s->totals.udp_flows;
	losses_read(&f->losses, s, sources);
	f->nprogs = s->nprogs;
	memcpy(f->progs, s->progs, s->nprogs * sizeof(f->progs[0]));
	take_top(f, s);
}

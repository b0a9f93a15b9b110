/* The detail pane: every field of one flow, untruncated, with its process's command line,
 * redrawn with each snapshot; d or Enter on a row (or a double click) opens it, Esc closes
 * it. A flow that ends keeps its last values on the pane, marked as ended. */
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ui/ui_put.h"
#include "ui/ui_state.h"
#include "view/columns.h"

#define KEY_ESC 27
#define LABEL_WIDTH 13
/* Lines the command line may take: a long Java command line should not push the counts
 * off a small screen. */
#define CMDLINE_LINES 4

/* The command line of pid, its arguments separated by spaces; "" when it cannot be read
 * (a kernel thread, a process gone, hidepid). Shown through ui_put(), which makes it safe
 * for the terminal. */
static void read_cmdline(uint32_t pid, char *out, size_t len)
{
	char path[32];
	ssize_t n = -1;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	fd = pid ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		n = read(fd, out, len - 1);
		close(fd);
	}
	if (n <= 0)
		return;
	while (n > 0 && out[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		out[i] = out[i] ? out[i] : ' ';
	out[n] = '\0';
}

/* The pane keeps src, which may outlive the snapshot or groups it came from: its identity
 * copied too. Its cgroup name is interned: it outlives them. */
static void keep_row(struct ui *ui, const struct flow_row *src)
{
	ui->detail_row = *src;
	ui->detail_id = *src->id;
	ui->detail_row.id = &ui->detail_id;
}

/* A group's pane takes its row from the groups just rebuilt (the rows shown: the pane is
 * modal, so the grouping stays). */
static void update_group(struct ui *ui)
{
	for (size_t i = 0; ui_rows_are_groups(ui) && i < ui->nrows; i++) {
		if (memcmp(&ui->rows[i]->key, &ui->detail_key, sizeof(ui->detail_key)) != 0)
			continue;
		group_row_copy(&ui->detail_group, group_row_of(ui->rows[i]));
		ui->detail_gone = false;
		break;
	}
	keep_row(ui, &ui->detail_group.row);
}

/* The shown snapshot's row of the flow on the pane, into ui->detail_row; when the flow is
 * gone, the pane keeps its last row and says so. */
void ui_detail_update(struct ui *ui)
{
	const struct snapshot *s = ui->shown;

	if (ui->mode != UI_MODE_DETAIL || !s)
		return;
	ui->detail_gone = true;
	if (ui->detail_is_group)
		update_group(ui);
	for (size_t i = 0; !ui->detail_is_group && i < s->nrows; i++) {
		if (memcmp(&s->rows[i].key, &ui->detail_key, sizeof(ui->detail_key)) != 0)
			continue;
		keep_row(ui, &s->rows[i]);
		ui->detail_gone = s->rows[i].closed;
		break;
	}
	if (ui->detail_row.id->tgid != ui->detail_pid) {
		ui->detail_pid = ui->detail_row.id->tgid;
		read_cmdline(ui->detail_pid, ui->detail_cmdline, sizeof(ui->detail_cmdline));
	}
}

int ui_detail_open(struct ui *ui)
{
	if (!ui->nrows)
		return 0;
	ui->detail_key = ui->rows[ui->selected]->key;
	keep_row(ui, ui->rows[ui->selected]);
	ui->detail_is_group = ui_rows_are_groups(ui);
	if (ui->detail_is_group)
		group_row_copy(&ui->detail_group, group_row_of(ui->rows[ui->selected]));
	ui->detail_pid = UINT32_MAX; /* read the command line now */
	ui->mode = UI_MODE_DETAIL;
	ui_detail_update(ui);
	return UI_REDRAW;
}

/* q quits from the pane as from the table; the keys that opened it close it. */
int ui_detail_key(struct ui *ui, int key)
{
	if (key == 'q' || key == KEY_F(10))
		return UI_QUIT;
	if (key == KEY_ESC || key == 'd' || key == KEY_BACKSPACE || key == 127 || key == '\n' ||
	    key == '\r' || key == KEY_ENTER)
		ui->mode = UI_MODE_ROWS;
	return UI_REDRAW;
}

/* ---------------------------------------------------------------- drawing */

static void label(const struct ui *ui, int y, const char *name)
{
	ui_put(ui, y, 1, A_BOLD, false, "%s", name);
}

/* The network namespace tcptop runs in: interface names are looked up there only. Read
 * once (by the UI thread, the pane's only caller), not at every frame. */
static uint32_t own_netns(void)
{
	static uint32_t ino;
	struct stat st;

	if (!ino && stat("/proc/self/ns/net", &st) == 0)
		ino = (uint32_t)st.st_ino;
	return ino;
}

/* One column's text as the live view writes it, but whole (no column width). */
static const char *cell(const struct ui *ui, const struct flow_row *row, int id, int window,
			char *out, size_t len)
{
	struct ui_cell_style style = { .bits = ui->bits, .utf8 = ui->utf8, .window = window };

	ui_format_cell(row, id, &style, out, len);
	return out;
}

/* The command line over up to CMDLINE_LINES lines, cut between characters. */
static int draw_cmdline(const struct ui *ui, int y, int bottom)
{
	const char *p = ui->detail_cmdline;
	int width = COLS - LABEL_WIDTH, lines = 0;

	label(ui, y, "Command");
	if (!*p)
		ui_put(ui, y, LABEL_WIDTH, A_NORMAL, false, "(not readable)");
	while (*p && width > 0 && lines < CMDLINE_LINES && y + lines < bottom) {
		size_t n = strlen(p);

		if (n > (size_t)width) {
			n = (size_t)width;
			while (n > 1 && ((unsigned char)p[n] & 0xc0) == 0x80)
				n--; /* not inside a UTF-8 character */
		}
		ui_put(ui, y + lines, LABEL_WIDTH, A_NORMAL, false, "%.*s", (int)n, p);
		p += n;
		lines++;
	}
	return lines ? lines : 1;
}

/* A direction's counts on two lines: the total and packets, then the rate now and over
 * each window. */
static void draw_direction(const struct ui *ui, int y, const char *name, bool tx)
{
	const struct flow_row *r = &ui->detail_row;
	char bytes[24], now[24], w2[24], w10[24], w40[24];
	int rate = tx ? COL_TX_RATE : COL_RX_RATE;

	label(ui, y, name);
	ui_put(ui, y, LABEL_WIDTH, A_NORMAL, false, "%s (%llu bytes), %llu packets",
	       cell(ui, r, tx ? COL_TX_BYTES : COL_RX_BYTES, 0, bytes, sizeof(bytes)),
	       (unsigned long long)(tx ? r->tx_bytes : r->rx_bytes),
	       (unsigned long long)(tx ? r->tx_packets : r->rx_packets));
	ui_put(ui, y + 1, LABEL_WIDTH, A_NORMAL, false,
	       "%s now, %s over 2s, %s over 10s, %s over 40s",
	       cell(ui, r, rate, 0, now, sizeof(now)), cell(ui, r, rate, 1, w2, sizeof(w2)),
	       cell(ui, r, rate, 2, w10, sizeof(w10)), cell(ui, r, rate, 3, w40, sizeof(w40)));
}

/* The rate (tx + rx) over the last intervals, newest at the right, and its peak. */
static void draw_history(const struct ui *ui, int y)
{
	const struct rate_history *h = ui->detail_is_group ? ui->group_history : ui->flow_history;
	double rates[RATE_HISTORY_LEN], peak = 0;
	size_t n = h ? rate_history_get(h, &ui->detail_key, rates) : 0;
	char line[RATE_HISTORY_LEN * 4 + 1], top[24];

	for (size_t i = 0; i < n; i++)
		peak = rates[i] > peak ? rates[i] : peak;
	ui_format_sparkline(rates, n, RATE_HISTORY_LEN, ui->utf8, line, sizeof(line));
	ui_format_rate(peak, ui->bits, top, sizeof(top));
	label(ui, y, "History");
	/* Right-aligned in a box of RATE_HISTORY_LEN cells: the newest always at its end. */
	ui_put(ui, y, LABEL_WIDTH, A_NORMAL, false, "[%*s%s] peak %s over the last %zu intervals",
	       RATE_HISTORY_LEN - ui_text_cells(line), "", line, top, n);
}

/* The remote address as the table writes it (a flow's with its port, a group's without),
 * then its name when the resolver has one; has_peer false: there is none to look up. */
static void draw_remote(const struct ui *ui, int y, const struct flow_row *r, bool has_peer)
{
	struct ui_cell_style style = { .utf8 = ui->utf8, .group = ui->detail_is_group };
	char remote[80], name[256] = "";
	bool named = has_peer && ui->resolver &&
		     resolver_lookup(ui->resolver, r->id->family, r->id->raddr, name, sizeof(name));

	ui_format_cell(r, COL_RADDR, &style, remote, sizeof(remote));
	label(ui, y, "Remote");
	ui_put(ui, y, LABEL_WIDTH, A_NORMAL, false, "%s%s%s%s", remote, named ? "  (" : "",
	       named ? name : "", named ? ")" : "");
}

static void draw_endpoints(const struct ui *ui, int y)
{
	const struct flow_row *r = &ui->detail_row;
	char local[80];

	label(ui, y, "Local");
	ui_put(ui, y, LABEL_WIDTH, A_NORMAL, false, "%s",
	       cell(ui, r, COL_LADDR, 0, local, sizeof(local)));
	draw_remote(ui, y + 1, r, r->id->rport != 0);
}

/* A group's own fields: what names it, and its flows by state. */
static int draw_group_identity(const struct ui *ui, int y, int bottom)
{
	const struct group_row *g = &ui->detail_group;
	const struct flow_row *r = &g->row;

	switch (ui->groups.grouping) {
	case GROUP_PROCESS:
		label(ui, y, "Process");
		ui_put(ui, y++, LABEL_WIDTH, A_NORMAL, false, "%u %s", r->id->tgid, r->id->comm);
		y += draw_cmdline(ui, y, bottom);
		break;
	case GROUP_REMOTE:
		draw_remote(ui, y++, r, r->id->family != 0);
		break;
	case GROUP_PORT:
		label(ui, y, "Service");
		ui_put(ui, y++, LABEL_WIDTH, A_NORMAL, false, "%s port %u",
		       r->id->proto == TCPTOP_PROTO_UDP ? "UDP" : "TCP", g->port);
		break;
	default:
		break;
	}
	if (r->cgroup) {
		label(ui, y, "Cgroup");
		ui_put(ui, y++, LABEL_WIDTH, A_NORMAL, false, "%s  (%s)", r->cgroup->shown,
		       r->cgroup->path);
	}
	label(ui, y, "Flows");
	ui_put(ui, y++, LABEL_WIDTH, A_NORMAL, false,
	       "%u: %u established, %u opening, %u closing, %u listening, %u UDP, "
	       "%u ended in the last interval",
	       g->flows, g->states[GROUP_ESTABLISHED], g->states[GROUP_OPENING],
	       g->states[GROUP_CLOSING], g->states[GROUP_LISTEN], g->states[GROUP_UDP],
	       g->states[GROUP_CLOSED]);
	return y;
}

/* A group row's pane: its identity, flows, RTT and both directions' sums. */
static void draw_group(const struct ui *ui, int top)
{
	const struct flow_row *r = &ui->detail_row;
	char what[160], age[24], rtt[24];
	int y = top;

	ui_group_label(ui->groups.grouping, &ui->detail_group, what, sizeof(what));
	ui_put(ui, y++, 0, A_REVERSE | A_BOLD, false, " Group detail: %s %s%s  (Esc closes)",
	       grouping_name(ui->groups.grouping), what,
	       ui->detail_gone ? " - no flows left: its last values" : "");
	y = draw_group_identity(ui, y + 1, LINES - 1);
	label(ui, y, "RTT");
	if (r->srtt_us)
		cell(ui, r, COL_RTT_US, 0, rtt, sizeof(rtt));
	else
		snprintf(rtt, sizeof(rtt), "none");
	ui_put(ui, y++, LABEL_WIDTH, A_NORMAL, false,
	       "%s (median of its TCP flows), retransmits %u, oldest flow %s", rtt, r->retrans,
	       cell(ui, r, COL_AGE_S, 0, age, sizeof(age)));
	draw_direction(ui, y, "Sent", true);
	draw_direction(ui, y + 2, "Received", false);
	draw_history(ui, y + 4);
}

void ui_detail_draw(const struct ui *ui, int top)
{
	const struct flow_row *r = &ui->detail_row;
	int y = top, bottom = LINES - 1;
	struct column_value v;
	char state[sizeof(v.text)], age[24], rtt[24], ifname[IF_NAMESIZE] = "";

	if (ui->detail_is_group) {
		draw_group(ui, top);
		return;
	}

	ui_put(ui, y++, 0, A_REVERSE | A_BOLD, false, " Flow detail%s  (Esc closes)",
	       ui->detail_gone ? " - this flow has ended: its last values" : "");
	label(ui, ++y, "Process");
	ui_put(ui, y, LABEL_WIDTH, A_NORMAL, false, "%u %s", r->id->tgid, r->id->comm);
	y += 1;
	y += draw_cmdline(ui, y, bottom);
	column_value(r, COL_STATE, &v);
	snprintf(state, sizeof(state), "%s", v.text);
	label(ui, y, "Protocol");
	ui_put(ui, y++, LABEL_WIDTH, A_NORMAL, false, "%s %s, state %s",
	       r->id->proto == TCPTOP_PROTO_UDP ? "UDP" : "TCP",
	       r->id->family == TCPTOP_AF_INET6 ? "IPv6" : "IPv4", state);
	draw_endpoints(ui, y);
	y += 2;
	label(ui, y, "Cgroup");
	ui_put(ui, y++, LABEL_WIDTH, A_NORMAL, false, "%s%s%s%s",
	       r->cgroup ? r->cgroup->shown : "(not known)", r->cgroup ? "  (" : "",
	       r->cgroup ? r->cgroup->path : "", r->cgroup ? ")" : "");
	if (r->id->ifindex && r->id->netns == own_netns())
		if_indextoname(r->id->ifindex, ifname);
	label(ui, y, "Network");
	if (r->id->ifindex)
		ui_put(ui, y++, LABEL_WIDTH, A_NORMAL, false, "namespace %u, interface %u%s%s%s",
		       r->id->netns, r->id->ifindex, ifname[0] ? " (" : "", ifname,
		       ifname[0] ? ")" : "");
	else
		ui_put(ui, y++, LABEL_WIDTH, A_NORMAL, false,
		       "namespace %u, interface not known yet", r->id->netns);
	label(ui, y, "Age");
	ui_put(ui, y++, LABEL_WIDTH, A_NORMAL, false, "%s, RTT %s, retransmits %u",
	       cell(ui, r, COL_AGE_S, 0, age, sizeof(age)),
	       cell(ui, r, COL_RTT_US, 0, rtt, sizeof(rtt)), r->retrans);
	draw_direction(ui, y, "Sent", true);
	draw_direction(ui, y + 2, "Received", false);
	draw_history(ui, y + 4);
}

"""Row filters: -p, -c, --port, --sport, --dport, -t, -u, -4, -6, -i and their AND.

One set of flows (the "world") serves most tests: two processes A and B with TCP over IPv4,
IPv6 and v4-mapped IPv6, and connected UDP over IPv4 and IPv6. Each test runs tcptop with a
filter for a few snapshots while the world keeps a trickle of traffic going, then checks
that every printed row satisfies the filter, that each of the world's matching flows is in
every snapshot (flows are in every one) and that its other flows are in none.

The -i tests have a world of their own (IfWorld): a network namespace with lo and a second
interface, tt0, and flows on each, with tcptop running inside it so that -i tt0 names that
interface. Only the world's process is shown (-p), so every row printed can be checked.
"""

import os
import subprocess
import time

import pytest

from tcptop_run import TEST_HOOKS, Tcptop, is_ipv4, is_ipv6
from traffic import Agents, TcpPair

SNAPSHOTS = 6
INTERVAL = "200ms"


class Flow:
    def __init__(self, name, owner, proto, lport, rport, family):
        self.name, self.owner, self.proto = name, owner, proto
        self.lport, self.rport, self.family = lport, rport, family

    def in_rows(self, rows):
        if self.rport is None:
            match = [r for r in rows if r["proto"] == self.proto and r["lport"] == self.lport
                     and r["state"] == "LISTEN"]
        else:
            match = [r for r in rows if r["proto"] == self.proto and r["lport"] == self.lport
                     and r["rport"] == self.rport]
        return match


class World:
    def __init__(self, agents):
        a = self.a = agents.new("fa")
        b = self.b = agents.new("fb")
        self.tcp4 = TcpPair(a, b, family=4)
        self.tcp6 = TcpPair(b, a, family=6)
        self.tcpm = TcpPair(a, b, family=6, host="::ffff:127.0.0.1",
                            server_v6only=False, client_v6only=False)
        self.udp = {}
        for family, host in ((4, "127.0.0.1"), (6, "::1")):
            sa = a.call("udp_socket", family=family, host=host)
            sb = b.call("udp_socket", family=family, host=host)
            a.call("udp_connect", sid=sa["sid"], host=host, port=sb["port"])
            b.call("udp_connect", sid=sb["sid"], host=host, port=sa["port"])
            self.udp[family] = (sa, sb)
        flows = []
        for tag, pair, family in (("tcp4", self.tcp4, 4), ("tcp6", self.tcp6, 6),
                                  ("tcpm", self.tcpm, 4)):
            flows += [Flow(tag + "_listen", pair.server, "TCP", pair.port, None, family),
                      Flow(tag + "_srv", pair.server, "TCP", pair.port, pair.client_lport, family),
                      Flow(tag + "_cli", pair.client, "TCP", pair.client_lport, pair.port, family)]
        for family, (sa, sb) in self.udp.items():
            flows += [Flow("udp%d_a" % family, a, "UDP", sa["port"], sb["port"], family),
                      Flow("udp%d_b" % family, b, "UDP", sb["port"], sa["port"], family)]
        self.flows = {f.name: f for f in flows}

    def names(self, predicate):
        return {f.name for f in self.flows.values() if predicate(f)}

    def poke(self):
        """A little traffic on every flow."""
        for pair in (self.tcp4, self.tcp6, self.tcpm):
            pair.transfer(100, 100)
        for sa, sb in self.udp.values():
            self.a.call("udp_send", sid=sa["sid"], size=20, count=1)
            self.b.call("udp_recv", sid=sb["sid"], count=1)
            self.b.call("udp_send", sid=sb["sid"], size=20, count=1)
            self.a.call("udp_recv", sid=sa["sid"], count=1)

    prefix = ()

    def run(self, *filter_args):
        """tcptop with the filter for SNAPSHOTS snapshots, poking the world meanwhile;
        returns them."""
        run = Tcptop(["-d", INTERVAL, "-N", str(SNAPSHOTS)] + list(filter_args),
                     prefix=self.prefix)
        try:
            deadline = time.monotonic() + 30
            while run.proc.poll() is None and time.monotonic() < deadline:
                self.poke()
                time.sleep(0.1)
            _, snaps = run.wait_exit(timeout=10)
        finally:
            run.kill()
        return snaps

    def check(self, filter_args, row_ok, expected, unchecked=()):
        """Every row satisfies row_ok; world flows named in expected are in every
        snapshot, the others (except those in unchecked) in none. Returns the rows."""
        snaps = self.run(*filter_args)
        what = "tcptop " + " ".join(filter_args)
        # (A snapshot without rows prints nothing.)
        assert len(snaps) == SNAPSHOTS or not expected, "%s: %d snapshots" % (what, len(snaps))
        rows = [r for snap in snaps for r in snap.rows]
        bad = [r for r in rows if not row_ok(r)]
        assert not bad, "%s printed rows outside the filter:\n%s" % (
            what, "\n".join(map(str, bad[:10])))
        for flow in self.flows.values():
            if flow.name in expected:
                missing = [s.time_text for s in snaps if not flow.in_rows(s.rows)]
                assert not missing, "%s: %s (%s %s->%s, pid %d) missing from %s" % (
                    what, flow.name, flow.proto, flow.lport, flow.rport, flow.owner.pid,
                    missing)
                for row in flow.in_rows(rows):
                    assert row["pid"] == flow.owner.pid, row
            elif flow.name not in unchecked:
                found = flow.in_rows(rows)
                assert not found, "%s: %s should be filtered out: %r" % (
                    what, flow.name, found[:3])
        return rows


@pytest.fixture(scope="module")
def world():
    agents = Agents("%03d" % (os.getpid() % 1000))
    try:
        yield World(agents)
    finally:
        agents.close_all()


def test_filter_pid_shows_only_that_process(world):
    pid = world.a.pid
    world.check(["-p", str(pid)], lambda r: r["pid"] == pid,
                world.names(lambda f: f.owner is world.a))


@pytest.mark.parametrize("form", ["list", "repeated"])
def test_filter_pid_list_and_repeated_option_mean_either_process(world, form):
    pids = {world.a.pid, world.b.pid}
    args = (["-p", "%d,%d" % (world.a.pid, world.b.pid)] if form == "list"
            else ["-p", str(world.a.pid), "-p", str(world.b.pid)])
    world.check(args, lambda r: r["pid"] in pids, set(world.flows))


def test_filter_process_name_substring(world):
    needle = world.a.comm[3:]  # "fa_NNN": a substring, not a prefix
    world.check(["-c", needle], lambda r: r["comm"] is not None and needle in r["comm"],
                world.names(lambda f: f.owner is world.a))


def test_filter_port_matches_local_or_remote_port(world):
    port = world.tcp4.port
    world.check(["--port", str(port)], lambda r: port in (r["lport"], r["rport"]),
                {"tcp4_listen", "tcp4_srv", "tcp4_cli"})


def test_filter_sport_matches_local_port_only(world):
    port = world.tcp4.port
    world.check(["--sport", str(port)], lambda r: r["lport"] == port,
                {"tcp4_listen", "tcp4_srv"})


def test_filter_dport_matches_remote_port_only(world):
    port = world.tcp4.port
    world.check(["--dport", str(port)], lambda r: r["rport"] == port, {"tcp4_cli"})


def test_filter_dport_on_udp_flow(world):
    port = world.udp[6][1]["port"]
    world.check(["--dport", str(port)], lambda r: r["rport"] == port, {"udp6_a"})


def test_filter_tcp_only(world):
    world.check(["-t"], lambda r: r["proto"] == "TCP", world.names(lambda f: f.proto == "TCP"))


def test_filter_udp_only(world):
    world.check(["-u"], lambda r: r["proto"] == "UDP", world.names(lambda f: f.proto == "UDP"))


def test_filter_tcp_and_udp_together_show_both(world):
    world.check(["-t", "-u"], lambda r: r["proto"] in ("TCP", "UDP"), set(world.flows))


def v4_row(r):
    return is_ipv4(r["laddr"]) and (r["raddr"] is None or is_ipv4(r["raddr"]))


def v6_row(r):
    return is_ipv6(r["laddr"]) and (r["raddr"] is None or is_ipv6(r["raddr"]))


def test_filter_ipv4_only_includes_v4_mapped_ipv6_sockets(world):
    rows = world.check(["-4"], v4_row, world.names(lambda f: f.family == 4))
    for name in ("tcpm_srv", "tcpm_cli"):
        for row in world.flows[name].in_rows(rows):
            assert row["laddr"] == row["raddr"] == "127.0.0.1", row


def test_filter_ipv6_only_excludes_v4_mapped_sockets(world):
    world.check(["-6"], v6_row, world.names(lambda f: f.family == 6))


def test_filter_ipv4_and_ipv6_together_show_both(world):
    world.check(["-4", "-6"], lambda r: v4_row(r) or v6_row(r), set(world.flows))


def test_filters_combine_with_and(world):
    pid, port = world.a.pid, world.tcp4.port
    world.check(["-p", str(pid), "-t", "--sport", str(port)],
                lambda r: r["pid"] == pid and r["proto"] == "TCP" and r["lport"] == port,
                {"tcp4_listen", "tcp4_srv"})


def test_filters_combine_udp_and_ipv6(world):
    world.check(["-u", "-6"], lambda r: r["proto"] == "UDP" and v6_row(r),
                {"udp6_a", "udp6_b"})


def test_filters_with_no_common_flow_print_no_world_rows(world):
    """A is never the client of tcp4, so -p A --dport PORT matches none of its flows."""
    pid, port = world.a.pid, world.tcp4.port
    world.check(["-p", str(pid), "--dport", str(port)],
                lambda r: r["pid"] == pid and r["rport"] == port, set())


# ------------------------------------------------------------------------- -i (interface)

class IfWorld(World):
    """A network namespace with lo and tt0, one end of a veth pair whose other end, tt1,
    has no address (tt0 is 198.51.100.1/24 without ARP: what is sent to the rest of that
    subnet leaves through tt0 and is dropped at tt1), and one process X in it owning:
    - on lo: a TCP connection (listener, server, client) and a pair of connected UDP
      sockets;
    - on tt0: a connected UDP socket sending to 198.51.100.2;
    - an unconnected UDP socket sending to a peer on each (127.0.0.1 and 198.51.100.3).
    tcptop runs in the namespace, with -p X."""

    def __init__(self, agents):
        x = self.x = agents.new("ifx", netns=True)
        self.prefix = ("nsenter", "-t", str(x.pid), "-n")
        for cmd in (["ip", "link", "add", "tt0", "type", "veth", "peer", "name", "tt1"],
                    ["ip", "addr", "add", "198.51.100.1/24", "dev", "tt0"],
                    ["ip", "link", "set", "tt0", "arp", "off", "up"],
                    ["ip", "link", "set", "tt1", "up"]):
            subprocess.run(list(self.prefix) + cmd, check=True)
        self.tcp = TcpPair(x, x, family=4)
        self.ua = x.call("udp_socket", family=4, host="127.0.0.1")
        self.ub = x.call("udp_socket", family=4, host="127.0.0.1")
        x.call("udp_connect", sid=self.ua["sid"], host="127.0.0.1", port=self.ub["port"])
        x.call("udp_connect", sid=self.ub["sid"], host="127.0.0.1", port=self.ua["port"])
        # Nothing receives beyond tt0; the ports are those of sockets bound here.
        self.far = x.call("udp_socket", family=4, host="198.51.100.1")
        self.ut = x.call("udp_socket", family=4, host="198.51.100.1")
        x.call("udp_connect", sid=self.ut["sid"], host="198.51.100.2", port=self.far["port"])
        self.uu = x.call("udp_socket", family=4, host="0.0.0.0")
        self.flows = {f.name: f for f in (
            Flow("tcp_listen", x, "TCP", self.tcp.port, None, 4),
            Flow("tcp_srv", x, "TCP", self.tcp.port, self.tcp.client_lport, 4),
            Flow("tcp_cli", x, "TCP", self.tcp.client_lport, self.tcp.port, 4),
            Flow("udp_a", x, "UDP", self.ua["port"], self.ub["port"], 4),
            Flow("udp_b", x, "UDP", self.ub["port"], self.ua["port"], 4),
            Flow("udp_tt0", x, "UDP", self.ut["port"], self.far["port"], 4),
            Flow("unconnected_lo", x, "UDP", self.uu["port"], self.ua["port"], 4),
            Flow("unconnected_tt0", x, "UDP", self.uu["port"], self.far["port"], 4))}
        self.on_lo = {"tcp_srv", "tcp_cli", "udp_a", "udp_b"}
        self.on_tt0 = {"udp_tt0"}

    def poke(self):
        x = self.x
        self.tcp.transfer(100, 100)
        x.call("udp_send", sid=self.ua["sid"], size=20, count=1)
        x.call("udp_recv", sid=self.ub["sid"], count=1)
        x.call("udp_send", sid=self.ub["sid"], size=20, count=1)
        x.call("udp_recv", sid=self.ua["sid"], count=1)
        x.call("udp_send", sid=self.ut["sid"], size=30, count=1)
        x.call("udp_sendto", sid=self.uu["sid"], host="127.0.0.1", port=self.ua["port"],
               size=40, count=1)
        x.call("udp_sendto", sid=self.uu["sid"], host="198.51.100.3", port=self.far["port"],
               size=40, count=1)
        # ua is connected to ub: the kernel drops uu's datagrams to it, unread.

    def only(self, names):
        """A row check: the row is one of these flows of the world (listeners aside)."""
        keys = {(f.proto, f.lport, f.rport) for n, f in self.flows.items() if n in names}

        def row_ok(r):
            return r["pid"] == self.x.pid and (
                (r["proto"], r["lport"], r["rport"]) in keys or
                (r["proto"] == "TCP" and r["state"] == "LISTEN"))
        return row_ok


@pytest.fixture(scope="module")
def if_world():
    agents = Agents("%03di" % (os.getpid() % 1000))
    try:
        yield IfWorld(agents)
    finally:
        agents.close_all()


UNCONNECTED = {"unconnected_lo", "unconnected_tt0"}


def test_filter_interface_lo_shows_loopback_flows_only(if_world):
    # Listeners move no packets of their own; whether they match -i is not specified.
    # Unconnected UDP flows: test_filter_interface_on_unconnected_udp_differs_per_hook_set.
    w = if_world
    w.check(["-i", "lo", "-p", str(w.x.pid)], w.only(w.on_lo | UNCONNECTED), w.on_lo,
            unchecked={"tcp_listen"} | UNCONNECTED)


def test_filter_other_interface_shows_its_flows_not_loopback_ones(if_world):
    w = if_world
    rows = w.check(["-i", "tt0", "-p", str(w.x.pid)], w.only(w.on_tt0 | UNCONNECTED),
                   w.on_tt0, unchecked={"tcp_listen"} | UNCONNECTED)
    sent = w.flows["udp_tt0"].in_rows(rows)
    assert sent[-1]["tx_packets"] > 0 and sent[-1]["tx_bytes"] > 0, sent[-1]


def test_filter_interface_on_unconnected_udp_differs_per_hook_set(if_world):
    """The man page: an unconnected UDP flow has neither route nor bound device, and
    matches no -i under the modern set; under compat it knows its device from the
    packets, and matches that one."""
    w = if_world
    for interface, own, other in (("lo", "unconnected_lo", "unconnected_tt0"),
                                  ("tt0", "unconnected_tt0", "unconnected_lo")):
        flows = w.on_lo if interface == "lo" else w.on_tt0
        if TEST_HOOKS == "compat":
            rows = w.check(["-i", interface, "-p", str(w.x.pid)], w.only(flows | {own}),
                           flows | {own}, unchecked={"tcp_listen"})
            sent = w.flows[own].in_rows(rows)[-1]
            assert sent["tx_packets"] > 0 and sent["tx_bytes"] == 40 * sent["tx_packets"], sent
        else:
            w.check(["-i", interface, "-p", str(w.x.pid)], w.only(flows), flows,
                    unchecked={"tcp_listen"})

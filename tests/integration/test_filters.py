"""Row filters: -p, -c, --port, --sport, --dport, -t, -u, -4, -6, -i and their AND.

One set of flows (the "world") serves every test: two processes A and B with TCP over IPv4,
IPv6 and v4-mapped IPv6, and connected UDP over IPv4 and IPv6. Each test runs tcptop with a
filter for a few snapshots while the world keeps a trickle of traffic going, then checks
that every printed row satisfies the filter, the world's matching flows are there and its
other flows are not.
"""

import os
import time

import pytest

from tcptop_run import Tcptop, is_ipv4, is_ipv6
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

    def run(self, *filter_args):
        """tcptop with the filter for SNAPSHOTS snapshots, poking the world meanwhile;
        returns every row it printed."""
        run = Tcptop(["-d", INTERVAL, "-N", str(SNAPSHOTS)] + list(filter_args))
        try:
            deadline = time.monotonic() + 30
            while run.proc.poll() is None and time.monotonic() < deadline:
                self.poke()
                time.sleep(0.1)
            rows, _ = run.wait_exit(timeout=10)
        finally:
            run.kill()
        return rows

    def check(self, filter_args, row_ok, expected, unchecked=()):
        """Every row satisfies row_ok; world flows named in expected appear, the others
        (except those in unchecked) do not."""
        rows = self.run(*filter_args)
        bad = [r for r in rows if not row_ok(r)]
        assert not bad, "tcptop %s printed rows outside the filter:\n%s" % (
            " ".join(filter_args), "\n".join(map(str, bad[:10])))
        for flow in self.flows.values():
            found = flow.in_rows(rows)
            if flow.name in expected:
                assert found, "tcptop %s: %s (%s %s->%s, pid %d) missing" % (
                    " ".join(filter_args), flow.name, flow.proto, flow.lport, flow.rport,
                    flow.owner.pid)
                for row in found:
                    assert row["pid"] == flow.owner.pid, row
            elif flow.name not in unchecked:
                assert not found, "tcptop %s: %s should be filtered out: %r" % (
                    " ".join(filter_args), flow.name, found[:3])
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


def test_filter_interface_lo_shows_loopback_flows(world):
    # Listeners move no packets of their own; whether they match -i is not specified.
    world.check(["-i", "lo"], lambda r: True,
                world.names(lambda f: f.rport is not None),
                unchecked=world.names(lambda f: f.rport is None))


def test_filter_other_interface_hides_loopback_flows(world):
    others = sorted(n for n in os.listdir("/sys/class/net") if n != "lo")
    if not others:
        pytest.skip("no network interface besides lo")
    world.check(["-i", others[0]], lambda r: True, set())


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

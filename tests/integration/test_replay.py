"""The replay backend (--replay synthetic:N[:ACTIVE]) through the real binary: the same
pipeline and output without BPF."""

import re

import pytest

from tcptop_run import parse_output, run_tcptop

# No BPF at all: the same in both hook-set passes.
pytestmark = pytest.mark.hooks_independent


def test_replay_100_flows_3_snapshots_prints_header_and_300_rows():
    result = run_tcptop(["-b", "-d", "50ms", "-N", "3", "--replay", "synthetic:100"])
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert len(lines) == 1 + 300, len(lines)
    rows, snaps = parse_output(result.stdout)
    assert [len(s.rows) for s in snaps] == [100, 100, 100]
    for snap in snaps:
        flows = {(r["proto"], r["laddr"], r["lport"], r["raddr"], r["rport"]) for r in snap.rows}
        assert len(flows) == 100, "a flow is shown twice in one snapshot"
    protos = {r["proto"] for r in rows}
    assert protos == {"TCP", "UDP"}
    assert any(":" in r["laddr"] for r in rows) and any("." in r["laddr"] for r in rows)
    for row in rows:
        if row["proto"] == "UDP":
            assert row["state"] == "-" and row["rtt_us"] is None, row
        else:
            assert row["state"] == "ESTABLISHED" and row["rtt_us"] > 0, row
        assert row["pid"] is not None and row["comm"].startswith("replay"), row


def test_replay_counts_grow_only_for_active_flows():
    result = run_tcptop(["-b", "-d", "50ms", "-N", "3", "--replay", "synthetic:40:10"])
    assert result.returncode == 0, result
    _, snaps = parse_output(result.stdout)
    def by_flow(snap):
        return {(r["laddr"], r["lport"], r["raddr"], r["rport"]): r for r in snap.rows}
    first, last = by_flow(snaps[0]), by_flow(snaps[-1])
    assert first.keys() == last.keys()
    grew = [k for k in first if last[k]["tx_bytes"] > first[k]["tx_bytes"]]
    assert len(grew) == 10, grew
    for k in first:
        assert last[k]["tx_bytes"] >= first[k]["tx_bytes"], k


def test_replay_bad_spec_is_usage_error():
    for spec in ("synthetic:", "synthetic:0", "bogus:5", "synthetic:5:9", "synthetic:x"):
        result = run_tcptop(["-b", "-N", "1", "--replay", spec], timeout=20)
        assert result.returncode == 2, result
        assert result.stdout == "" and len(result.stderr.splitlines()) == 1, result
        assert "--replay" in result.stderr, result


def test_replay_idle_flows_written_from_kept_text_stay_exact_and_age():
    """Idle rows are written from text kept between snapshots (the line cache): every
    snapshot must still list every flow, idle ones with their bytes, zero rates and an age
    that moves with the clock, active ones first (the default sort is by rate)."""
    result = run_tcptop(["-b", "-d", "50ms", "-N", "12", "--replay", "synthetic:300:20"])
    assert result.returncode == 0, result
    _, snaps = parse_output(result.stdout)
    assert [len(s.rows) for s in snaps] == [300] * 12
    def key(r):
        return (r["proto"], r["laddr"], r["lport"], r["raddr"], r["rport"])
    before = {key(r): r for r in snaps[1].rows}
    for snap in snaps[2:]:
        rates = [r["tx_rate"] + r["rx_rate"] for r in snap.rows]
        assert rates == sorted(rates, reverse=True), "rows in --sort order"
        assert sum(1 for v in rates if v > 0) == 20
        now = {key(r): r for r in snap.rows}
        assert now.keys() == before.keys()
        for k, r in now.items():
            assert r["age_s"] > before[k]["age_s"], (k, r, before[k])
            if r["tx_rate"] == 0 and r["rx_rate"] == 0:
                assert r["tx_bytes"] == before[k]["tx_bytes"], (k, r)
        before = now


def test_replay_vv_reports_stage_times_and_steady_cpu():
    result = run_tcptop(["-b", "-vv", "-d", "50ms", "-N", "6", "--replay", "synthetic:200:20"])
    assert result.returncode == 0, result
    for stage in ("drain+merge", "snapshot build", "output write"):
        assert re.search(rf"stage {re.escape(stage)}: \d+ intervals, mean [\d.]+ ms, "
                         r"max [\d.]+ ms, mean after the first [\d.]+ ms", result.stderr), \
            result.stderr
    m = re.search(r"cpu after the first two snapshots: ([\d.]+)% of a core over ([\d.]+) s",
                  result.stderr)
    assert m, result.stderr
    assert 0 <= float(m.group(1)) < 200 and float(m.group(2)) > 0.1, m.group(0)

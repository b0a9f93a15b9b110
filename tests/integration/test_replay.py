"""The replay backend (--replay synthetic:N[:ACTIVE]) through the real binary: the same
pipeline and output without BPF."""

from tcptop_run import parse_output, run_tcptop


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

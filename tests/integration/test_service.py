"""contrib/tcptop.service: systemd accepts it, it is hardened as the README says, and its
command serves metrics with nothing but the capabilities the unit grants."""

import os
import re
import shutil
import subprocess

import pytest

from scrape import MetricsTcptop, free_port, promtool_check
from tcptop_run import TCPTOP

UNIT = os.path.join(os.path.dirname(os.path.abspath(TCPTOP)), "contrib", "tcptop.service")
CAPS = ["CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN"]


def unit_settings():
    """{key: [values]} of the built unit's uncommented lines."""
    assert os.path.exists(UNIT), "%s missing: make builds it" % UNIT
    settings = {}
    with open(UNIT) as f:
        for line in f:
            match = re.match(r"^(\w+)=(.*)$", line.strip())
            if match:
                settings.setdefault(match.group(1), []).append(match.group(2))
    return settings


def test_unit_passes_systemd_analyze_verify(scratch_dir):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("no systemd here")
    # The unit names the installed binary; verify the one under test in its place.
    with open(UNIT) as f:
        text = f.read()
    installed = unit_settings()["ExecStart"][0].split()[0]
    path = scratch_dir / "tcptop.service"
    path.write_text(text.replace(installed, os.path.abspath(TCPTOP)))
    # Where man is installed, verify looks the unit's Documentation up with it: the page
    # under test stands in for the installed one.
    man8 = scratch_dir / "man" / "man8"
    man8.mkdir(parents=True)
    shutil.copy(os.path.join(os.environ.get("TCPTOP_SRCDIR", "."), "doc", "tcptop.8"), man8)
    env = dict(os.environ, MANPATH=str(scratch_dir / "man"))
    run = subprocess.run([analyze, "verify", str(path)], capture_output=True, timeout=60,
                         env=env)
    said = (run.stdout + run.stderr).decode()
    assert run.returncode == 0, said
    # Warnings (an unknown or misspelt key is only that) fail the test too.
    assert "tcptop.service" not in said, said


def test_unit_is_hardened():
    s = unit_settings()
    command = s["ExecStart"][0].split()
    assert command[1:] == ["--quiet", "--metrics", "127.0.0.1:9977"], command
    assert sorted(s["CapabilityBoundingSet"][0].split()) == sorted(CAPS)
    assert sorted(s["AmbientCapabilities"][0].split()) == sorted(CAPS)
    for key, want in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                      ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                      ("Restart", "on-failure"), ("LogsDirectory", "tcptop")):
        assert s.get(key) == [want], (key, s.get(key))
    assert "AF_PACKET" not in s["RestrictAddressFamilies"][0]
    assert re.fullmatch(r"\d+[KMG]", s["MemoryMax"][0]), s["MemoryMax"]


def test_units_command_serves_metrics_with_only_the_units_capabilities():
    s = unit_settings()
    caps = ",".join("+" + c[4:].lower() for c in s["CapabilityBoundingSet"][0].split())
    args = s["ExecStart"][0].split()[1:]
    port = free_port()
    args[args.index("--metrics") + 1] = "127.0.0.1:%d" % port
    run = MetricsTcptop(port=port, prefix=["setpriv", "--bounding-set=-all," + caps,
                                           "--inh-caps=-all"], command=args)
    try:
        run.wait_serving()
        status, said = promtool_check(run.scrape())
        assert status == 0 and said == "", said
        status, out, err = run.finish(sig=15)
        assert status == 0 and out == "", err
    finally:
        run.kill()

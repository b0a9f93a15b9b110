"""Running for days: nothing tcptop keeps grows without bound or outlives the flow it was
for, and what it must drop it counts."""

import json
import os
import subprocess
import time

from tcptop_run import Tcptop

TEST_BIN = os.environ.get("TCPTOP_TEST_BIN", "")


def tool(name):
    path = os.path.join(TEST_BIN, name)
    assert os.access(path, os.X_OK), "no %s: make check builds it (TCPTOP_TEST_BIN)" % path
    return path


def test_connections_reset_while_sending_leave_no_flow_behind():
    """Sixteen threads send on connections the server resets under them, with the flow
    store small enough that most sockets wait for a slot: a slot taken by a send counted
    while the connection's close ran on another CPU would never be given back, and its flow
    would stay in every snapshot. Once the load is over, no flow of it is left."""
    run = Tcptop(["-d", "250ms", "--max-flows", "4096", "-t"])
    try:
        run.wait_snapshots(1)
        done = json.loads(subprocess.run([tool("close_race"), "5", "16"], check=True,
                                         stdout=subprocess.PIPE, timeout=60).stdout)
        time.sleep(1.0)  # the last closes drained, their final rows shown once
        snap = run.wait_after(time.time())
        run.stop()
    finally:
        run.kill()
    assert done["connections"] > 1000, done
    left = [r for r in snap.rows if done["port"] in (r["lport"], r["rport"]) and
            r["state"] != "LISTEN"]
    assert not left, "%d flows outlived their connections, e.g. %r" % (len(left), left[:3])

"""A real Prometheus server (Debian's prometheus) for the tests: its own config and storage
in a temporary directory, on a loopback port, scraping one target every second. Stopped
and its directory removed on leaving the with block, also on failure."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from scrape import PROMETHEUS, free_port

CONFIG = """global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: tcptop
    static_configs:
      - targets: ['127.0.0.1:%d']
"""


class Prometheus:
    def __init__(self, target_port):
        assert os.access(PROMETHEUS, os.X_OK), "prometheus missing: run contrib/install-deps.sh"
        self.target_port = target_port
        self.dir = None
        self.proc = None
        self.port = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="tcptop-prometheus-")
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(CONFIG % self.target_port)
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def _get(self, path, timeout=5):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path),
                                    timeout=timeout) as resp:
            return resp.read().decode()

    def _wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, "prometheus exited:\n" + self.output()
            try:
                self._get("/-/ready", timeout=2)
                return
            except OSError:
                pass
            assert time.monotonic() < deadline, "prometheus not ready:\n" + self.output()
            time.sleep(0.2)

    def query(self, promql, at=None):
        """The instant vector's samples: [(labels, value)]."""
        params = {"query": promql}
        if at is not None:
            params["time"] = "%.3f" % at
        reply = json.loads(self._get("/api/v1/query?" + urllib.parse.urlencode(params)))
        assert reply["status"] == "success", reply
        return [(r["metric"], float(r["value"][1])) for r in reply["data"]["result"]]

    def one(self, promql, at=None):
        """The value of a query that selects one series, or None when it selects none."""
        result = self.query(promql, at)
        assert len(result) <= 1, result
        return result[0][1] if result else None

    def targets(self):
        return json.loads(self._get("/api/v1/targets"))["data"]["activeTargets"]

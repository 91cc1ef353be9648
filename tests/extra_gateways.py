"""More gateway processes beside the stack's: each its own gunicorn (one worker, so one
process answers on its port) against the same services, for the rule that a change
applies on every gateway process (tests/e2e/test_access_api.py, bench/access_feed.py)."""
import os
import signal
import subprocess
import tempfile

import requests

from imageboard import PROJECT_ROOT
from imageboard_ops.processes import gateway_process
from imageboard_ops.util import wait_for
from tests.ports import free_port


class ExtraGateway:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix="ib-gateway-")

    def start(self):
        env = dict(os.environ, GATEWAY_BIND=f"127.0.0.1:{self.port}", GATEWAY_WORKERS="1",
                   GATEWAY_THREADS="4", PROMETHEUS_MULTIPROC_DIR=os.path.join(self.dir, "metrics"))
        self.log = open(os.path.join(self.dir, "gateway.log"), "wb")
        self.proc = subprocess.Popen(gateway_process().argv, env=env, cwd=PROJECT_ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        # /ready: every service answers and the access feed is current in this process.
        wait_for(lambda: self._ready(), 60, what=f"gateway on {self.port} /ready")
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"gateway on {self.port} exited; see {self.log.name}")
        try:
            return requests.get(self.url + "/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def worker_pids(self):
        """The gunicorn worker processes under this master (one)."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        self.log.close()

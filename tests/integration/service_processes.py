"""Real `nameko run` processes for tests that need a service as operators run it (scaling,
signals): own metrics port, the test's RabbitMQ vhost, output to a log file."""
import os
import signal
import subprocess

import requests
from kombu import Connection

from imageboard import PROJECT_ROOT
from imageboard.config import config_path
from imageboard_ops.processes import BIN
from imageboard_ops.util import wait_for
from tests.ports import free_port


class ServiceProcess:
    def __init__(self, service, amqp_uri, log_dir):
        self.service = service
        self.amqp_uri = amqp_uri
        self.metrics_port = free_port()
        self.log_path = os.path.join(log_dir, f"{service}-{self.metrics_port}.log")
        self.proc = None

    def start(self):
        env = dict(os.environ, AMQP_URI=self.amqp_uri, METRICS_PORT=str(self.metrics_port),
                   IMAGEBOARD_CONFIG=config_path(), PYTHONUNBUFFERED="1")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "nameko"), "run", "--config", config_path(),
             f"services.{self.service}.service"],
            cwd=PROJECT_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        wait_for(self.metrics_answer, 30, what=f"{self.service} (pid {self.proc.pid}) to start")
        return self

    def metrics_answer(self):
        assert self.proc.poll() is None, self.log()
        try:
            return requests.get(self.metrics_url, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    @property
    def metrics_url(self):
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def rpc_calls(self, method):
        """imageboard_rpc_requests_total for `method` in this process."""
        text = requests.get(self.metrics_url, timeout=5).text
        for line in text.splitlines():
            if (line.startswith("imageboard_rpc_requests_total{")
                    and f'method="{method}"' in line and f'service="{self.service}"' in line):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def sigterm(self):
        self.proc.send_signal(signal.SIGTERM)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self._log.close()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as fh:
                return fh.read()[-4000:]
        except OSError:
            return ""


def queue_consumers(amqp_uri, service):
    try:
        with Connection(amqp_uri, connect_timeout=2) as conn:
            _, _, consumers = conn.channel().queue_declare(queue=f"rpc-{service}", passive=True)
            return consumers
    except Exception:
        return 0

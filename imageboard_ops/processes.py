"""The system's own processes: one `nameko run` per service in SERVICES, the analytics
pipeline (when `analytics` is among them), the stream process and the gateway; app_processes() gives their
start order."""
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from imageboard import PROJECT_ROOT
from imageboard.config import config_path
from imageboard_ops.util import log_path, pid_alive, pid_path, read_pid

BIN = os.path.dirname(sys.executable)


@dataclass
class ProcessSpec:
    name: str
    argv: list


def service_process(service):
    return ProcessSpec(service, [os.path.join(BIN, "nameko"), "run", "--config", config_path(),
                                 f"services.{service}.service"])


def gateway_process():
    return ProcessSpec("gateway", [os.path.join(BIN, "gunicorn"), "-c",
                                   os.path.join(PROJECT_ROOT, "gateway", "gunicorn_conf.py"),
                                   "gateway.wsgi:app"])


def pipeline_process():
    """Kafka -> ClickHouse sink (analytics-pipeline/): a plain process, no eventlet."""
    return ProcessSpec("analytics-pipeline", [sys.executable, "-m", "analytics_pipeline"])


def stream_process():
    """Live updates (streaming/): an asyncio process under uvicorn on STREAM_BIND."""
    return ProcessSpec("stream", [sys.executable, "-m", "streaming"])


def app_processes(config):
    """Start order; stopped in reverse (gateway and stream first, so no request meets a
    dead service)."""
    workers = [pipeline_process()] if "analytics" in config["SERVICES"] else []
    return ([service_process(s) for s in config["SERVICES"]] + workers
            + [stream_process(), gateway_process()])


def start(spec):
    pid = read_pid(spec.name)
    if pid_alive(pid):
        return pid
    env = dict(os.environ, IMAGEBOARD_CONFIG=config_path(), PYTHONUNBUFFERED="1")
    logfile = open(log_path(spec.name), "ab")
    proc = subprocess.Popen(spec.argv, cwd=PROJECT_ROOT, env=env, stdout=logfile,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    with open(pid_path(spec.name), "w") as fh:
        fh.write(str(proc.pid))
    return proc.pid


def stop(name, timeout=30):
    """SIGTERM (Nameko and gunicorn finish in-flight work), then SIGKILL after `timeout`."""
    pid = read_pid(name)
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
    try:
        os.unlink(pid_path(name))
    except FileNotFoundError:
        pass
    # Reap it if it was our own child (`imageboard run`).
    try:
        os.waitpid(pid, os.WNOHANG) if pid else None
    except ChildProcessError:
        pass

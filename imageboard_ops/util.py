import os
import socket
import subprocess
import time
from urllib.parse import urlparse

from imageboard.config import var_dir  # noqa: F401  (ops callers use it from here)


def log_path(name):
    return os.path.join(var_dir(), "log", f"{name}.log")


def pid_path(name):
    return os.path.join(var_dir(), "run", f"{name}.pid")


def host_port(url, default_port):
    if "://" not in url:
        url = "tcp://" + url.split(",")[0]
    parts = urlparse(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def port_open(host, port, timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def run(argv, check=True, **kwargs):
    return subprocess.run(argv, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kwargs)


def is_root():
    return os.geteuid() == 0


def read_pid(name):
    try:
        with open(pid_path(name)) as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True

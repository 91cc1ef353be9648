"""nginx without Docker: render nginx/ templates with this machine's ports and paths, check,
start and stop it. Used by the test suite and by operators on a plain host."""
import os
import signal
import string
import subprocess
import time

from imageboard import PROJECT_ROOT
from imageboard_ops.util import pid_alive, wait_for

NGINX_DIR = os.path.join(PROJECT_ROOT, "nginx")
NGINX_BIN = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
WEB_ROOT = os.path.join(PROJECT_ROOT, "web", "dist")


def _render(template_path, values):
    with open(template_path) as fh:
        text = string.Template(fh.read()).safe_substitute(values)
    # A placeholder left over would reach nginx as an unknown variable: fail here instead.
    if "${NGINX_" in text:
        start = text.index("${NGINX_")
        raise ValueError(f"{template_path}: unfilled placeholder {text[start:start + 30]}")
    return text


def _beside(gateway):
    host, _, port = gateway.rpartition(":")
    return f"{host}:{int(port) + 1}"


def render(run_dir, listen, gateway, media_root, proxy_timeout="30s", workers=1,
           microcache="1s", posting_rate="30r/m", worker_connections=1024, upstream_keepalive=32,
           web_root=WEB_ROOT, stream=None):
    """Writes <run_dir>/nginx.conf and <run_dir>/default.conf; returns the main file.
    microcache: how long an anonymous feed page is reused ("0s": never); posting_rate:
    the per-IP limit on creating posts and comments (a load test from one host raises it);
    worker_connections, upstream_keepalive: a load test raises them too (bench.run); web_root:
    the built web client served at / (web/dist, `make web`); stream: the stream process's
    host:port (default: the gateway's host, port + 1)."""
    run_dir = os.path.abspath(run_dir)
    os.makedirs(run_dir, exist_ok=True)
    values = {
        "NGINX_LISTEN": listen,
        "NGINX_GATEWAY": gateway,
        "NGINX_STREAM": stream or _beside(gateway),
        "NGINX_MEDIA_ROOT": os.path.abspath(media_root).rstrip("/"),
        "NGINX_PROXY_TIMEOUT": proxy_timeout,
        "NGINX_ACCESS_LOG": os.path.join(run_dir, "access.log"),
        "NGINX_RUN_DIR": run_dir,
        "NGINX_CACHE_DIR": os.path.join(run_dir, "cache"),
        "NGINX_MICROCACHE": microcache,
        "NGINX_POSTING_RATE": posting_rate,
        "NGINX_WORKERS": str(workers),
        "NGINX_WORKER_CONNECTIONS": str(worker_connections),
        "NGINX_RLIMIT_NOFILE": str(2 * worker_connections + 64),  # client + upstream + files
        "NGINX_UPSTREAM_KEEPALIVE": str(upstream_keepalive),
        "NGINX_WEB_ROOT": os.path.abspath(web_root).rstrip("/"),
        # Run by root (tests, CI): workers keep root's rights so they can use run_dir and the
        # media root wherever those are (pytest's tmp dirs are 0700); otherwise not needed.
        "NGINX_USER_DIRECTIVE": "user root;" if os.geteuid() == 0 else "",
    }
    for name, template in (("default.conf", "templates/default.conf.template"),
                           ("nginx.conf", "nginx.conf.template")):
        with open(os.path.join(run_dir, name), "w") as fh:
            fh.write(_render(os.path.join(NGINX_DIR, template), values))
    return os.path.join(run_dir, "nginx.conf")


def check(conf):
    """`nginx -t`: (ok, output)."""
    proc = subprocess.run([NGINX_BIN, "-t", "-c", conf], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    return proc.returncode == 0, proc.stdout


def _pid(conf):
    try:
        with open(os.path.join(os.path.dirname(conf), "nginx.pid")) as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def running(conf):
    return pid_alive(_pid(conf))


def start(conf, timeout=10):
    """Starts nginx (it daemonizes); returns the master's pid once the pid file exists."""
    subprocess.run([NGINX_BIN, "-c", conf], check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT)
    wait_for(lambda: pid_alive(_pid(conf)), timeout, what="nginx to start")
    return _pid(conf)


def stop(conf, timeout=10):
    """SIGQUIT: graceful (finishes requests in progress), SIGTERM if that takes too long."""
    pid = _pid(conf)
    if not pid_alive(pid):
        return
    os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        os.kill(pid, signal.SIGTERM)

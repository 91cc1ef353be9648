"""gunicorn settings, taken from config/imageboard.yaml (and so from the environment)."""
import json
import os
import shutil

import gunicorn.http.wsgi
import gunicorn.util

from imageboard.config import load_config, var_dir

# The Server header names no software or version (gunicorn sends "gunicorn"; behind nginx
# the client sees nginx's, server_tokens off). gunicorn has no setting for it: the header
# is this module attribute, read for every response; tests/security/test_headers.py checks.
gunicorn.http.wsgi.SERVER = "imageboard"


def _write_json_error(sock, status_int, reason, mesg):
    """What gunicorn refuses before the app sees it (a request line over 4094 bytes: 414,
    oversized headers: 431, a malformed request: 400) in the contract's error body
    (decision 1) instead of gunicorn's HTML page. Schemathesis found the HTML 414 (a long
    query string straight at the gateway; nginx passes request lines up to 8 KB)."""
    code = "_".join(reason.lower().replace("-", " ").split()) or "bad_request"
    body = json.dumps({"error": {"code": code, "message": mesg or reason}}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            "Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    gunicorn.util.write_nonblock(sock, head.encode("latin-1") + body)


# gunicorn.workers.base calls util.write_error for each such answer.
gunicorn.util.write_error = _write_json_error

# Prometheus multiprocess mode: every worker writes its samples under this directory and
# /metrics merges them. Must be in the environment before any worker imports
# prometheus_client; emptied at start so a restart does not resurrect old counts.
METRICS_DIR = (os.environ.get("PROMETHEUS_MULTIPROC_DIR")
               or os.path.join(var_dir(), "metrics", "gateway"))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = METRICS_DIR

_config = load_config()

bind = str(_config["GATEWAY_BIND"])
worker_class = "gthread"
workers = int(_config["GATEWAY_WORKERS"])
# Each thread keeps its own RPC proxy (AMQP connection + reply queue).
threads = int(_config["GATEWAY_THREADS"])
# A request may wait RPC_TIMEOUT for a service; give it room before the worker is killed.
timeout = int(float(_config["RPC_TIMEOUT"])) * 4 + 10
graceful_timeout = int(float(_config["RPC_TIMEOUT"])) + 5
keepalive = 5
accesslog = None  # the RequestIdMiddleware writes one JSON access line per request
errorlog = "-"


def on_starting(server):
    shutil.rmtree(METRICS_DIR, ignore_errors=True)
    os.makedirs(METRICS_DIR, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, METRICS_DIR)

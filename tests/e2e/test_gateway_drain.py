"""SIGTERM to the gateway (gunicorn) lets the request in progress finish. A second gateway
is started beside the test stack's; its request is held inside the users service by an
uncommitted row with the same username (the INSERT waits on the unique index)."""
import os
import signal
import subprocess
import threading

import psycopg2
import pytest
import requests

from imageboard import PROJECT_ROOT
from imageboard.config import config_path, database_url
from imageboard.db import connect_kwargs
from imageboard_ops.processes import BIN
from imageboard_ops.util import wait_for
from tests.ports import free_port

pytestmark = pytest.mark.e2e


def _answers(url):
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _blocked_on_a_lock(watcher):
    """Some session of the users database waits on a lock: the service's INSERT, held by
    the test's uncommitted row."""
    with watcher.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return cur.fetchone()[0] > 0


def _logged(path, text):
    with open(path, "rb") as fh:
        return text in fh.read()


def test_sigterm_lets_the_gateway_finish_the_request_in_progress(stack, config, tmp_path, unique):
    port = free_port()
    env = dict(os.environ, GATEWAY_BIND=f"127.0.0.1:{port}", GATEWAY_WORKERS="1",
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),  # not the stack gateway's
               IMAGEBOARD_CONFIG=config_path())
    log = open(tmp_path / "gateway.log", "wb")
    gateway = subprocess.Popen([os.path.join(BIN, "gunicorn"), "-c",
                                os.path.join(PROJECT_ROOT, "gateway", "gunicorn_conf.py"),
                                "gateway.wsgi:app"],
                               cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    name = f"gw_{unique}"
    db_name, kwargs = connect_kwargs(database_url(config, "users"))
    holder = psycopg2.connect(dbname=db_name, **kwargs)
    watcher = psycopg2.connect(dbname=db_name, **kwargs)
    watcher.autocommit = True
    try:
        wait_for(lambda: _answers(base + "/health"), 30, what="the second gateway")
        with holder.cursor() as cur:  # uncommitted: the service's INSERT will wait for it
            cur.execute("INSERT INTO users (username, email, password_hash) VALUES (%s, %s, 'x')",
                        (name, f"{name}@hold.example.com"))

        answer = {}

        def register():
            # An exception in a thread does not fail the test: keep it for the assertion.
            try:
                answer["resp"] = requests.post(base + "/api/users/register/", timeout=60, json={
                    "username": name, "email": f"{name}@example.com", "password": "password1"})
            except Exception as exc:  # noqa: BLE001
                answer["error"] = exc
        client = threading.Thread(target=register)
        client.start()
        # Not a sleep: wait until the request is really inside users.register, blocked.
        wait_for(lambda: _blocked_on_a_lock(watcher), 30, what="users.register to wait on the row")
        assert answer == {}

        gateway.send_signal(signal.SIGTERM)
        wait_for(lambda: _logged(tmp_path / "gateway.log", b"Handling signal: term"), 15,
                 what="gunicorn to handle the SIGTERM")
        assert gateway.poll() is None, "gunicorn exited with a request in progress"
        assert answer == {}, "the request was answered before its INSERT could finish"
        holder.rollback()  # the INSERT goes on; the reply travels back through the gateway
        client.join(timeout=60)

        assert not client.is_alive() and "error" not in answer, answer
        assert answer["resp"].status_code == 201, answer["resp"].text
        assert answer["resp"].json()["username"] == name
        assert gateway.wait(timeout=20) == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(base + "/health", timeout=2)
    finally:
        holder.close()
        watcher.close()
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait()
        log.close()

"""SIGTERM to the gateway (gunicorn) lets the request in progress finish. A second gateway
is started beside the test stack's; its request is held inside the users service by an
uncommitted row with the same username (the INSERT waits on the unique index)."""
import os
import signal
import subprocess
import threading
import time

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
    try:
        wait_for(lambda: _answers(base + "/health"), 30, what="the second gateway")
        with holder.cursor() as cur:  # uncommitted: the service's INSERT will wait for it
            cur.execute("INSERT INTO users (username, email, password_hash) VALUES (%s, %s, 'x')",
                        (name, f"{name}@hold.example.com"))

        answer = {}

        def register():
            answer["resp"] = requests.post(base + "/api/users/register/", timeout=30, json={
                "username": name, "email": f"{name}@example.com", "password": "password1"})
        client = threading.Thread(target=register)
        client.start()
        time.sleep(1.0)  # the request is inside users.register now
        assert "resp" not in answer

        gateway.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert gateway.poll() is None, "gunicorn exited with a request in progress"
        holder.rollback()  # the INSERT goes on; the reply travels back through the gateway
        client.join(timeout=20)

        assert answer["resp"].status_code == 201, answer["resp"].text
        assert answer["resp"].json()["username"] == name
        assert gateway.wait(timeout=20) == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(base + "/health", timeout=2)
    finally:
        holder.close()
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait()
        log.close()

"""SIGTERM drains: a service told to stop finishes the calls it has in hand, answers them,
and only then exits. The call is made slow for real: a row lock held by the test makes
users.set_admin wait inside its UPDATE."""
import time

import eventlet
import psycopg2
import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from imageboard.config import database_url
from imageboard.db import connect_kwargs
from imageboard_ops.util import wait_for
from tests.integration.service_processes import ServiceProcess

pytestmark = pytest.mark.integration


def workers_busy(instance):
    text = requests.get(instance.metrics_url, timeout=5).text
    for line in text.splitlines():
        if line.startswith('imageboard_service_workers_busy{service="users"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_sigterm_lets_the_call_in_progress_finish_then_exits(service_config, migrated, tmp_path, unique):
    migrated("users")
    users = ServiceProcess("users", service_config["AMQP_URI"], tmp_path).start()
    name = f"drain_{unique}"
    lock = None
    try:
        with ClusterRpcProxy(service_config, timeout=20) as rpc:
            rpc.users.register({"username": name, "email": f"{name}@example.com",
                                "password": "password1"})

        db_name, kwargs = connect_kwargs(database_url(service_config, "users"))
        lock = psycopg2.connect(dbname=db_name, **kwargs)
        with lock.cursor() as cur:  # holds the row until rollback
            cur.execute("SELECT id FROM users WHERE username = %s FOR UPDATE", (name,))

        def slow_call():
            with ClusterRpcProxy(service_config, timeout=30) as rpc:
                return rpc.users.set_admin(name)
        call = eventlet.spawn(slow_call)
        wait_for(lambda: workers_busy(users) == 1, 10, what="set_admin to be in progress")

        users.sigterm()
        time.sleep(1.5)
        assert users.proc.poll() is None, "exited with a call in progress"
        assert not call.dead

        lock.rollback()  # the UPDATE can go on now
        result = call.wait()
        assert result["username"] == name and result["is_admin"] is True

        users.proc.wait(timeout=20)
        assert users.proc.returncode == 0, users.log()
        with lock.cursor() as cur:
            cur.execute("SELECT is_admin FROM users WHERE username = %s", (name,))
            assert cur.fetchone()[0] is True
        print(f"\nSIGTERM during users.set_admin: the call answered {result}, "
              f"then the process exited with {users.proc.returncode}")
    finally:
        if lock is not None:
            lock.close()
        users.stop()

"""Fault tests' tools: a private stack instance (own databases, vhost, topics, ports, var
dir; optionally its own RabbitMQ/PostgreSQL/Kafka/ClickHouse servers), private servers
that may be broken at will, and a load generator that records every request."""
import collections
import os
import signal
import tempfile
import threading
import time
import uuid

import psycopg2
import requests

from imageboard.config import database_url, load_config
from imageboard.db import drop_database
from imageboard_ops import infra, processes, system
from imageboard_ops.util import pid_alive, read_pid, wait_for
from tests.ports import free_port
from tests.private_servers import PrivatePostgres

INSTANCE = os.environ.get("IB_TEST_INSTANCE", "test")


class PrivateStack:
    """The whole system started by imageboard_ops.system for one fault test, with env
    overrides (e.g. a private server's address). os.environ is restored on exit, so later
    tests and their processes see the suite's own settings again."""

    def __init__(self, name, postgres=None, **overrides):
        """`postgres`: a PrivatePostgres to use (the caller breaks it); by default the stack
        makes its own, so fault tests never take connection slots of the shared server."""
        self.own_postgres = postgres is None
        self.postgres = postgres or PrivatePostgres()
        instance = f"{INSTANCE}_{name}".replace("-", "_")
        self.var = os.path.join(tempfile.gettempdir(), f"imageboard-{instance}-var")
        self.env = {
            "DB_PREFIX": f"imageboard_{instance}",
            "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/imageboard_{instance}",
            "GATEWAY_BIND": f"127.0.0.1:{free_port()}",
            "KAFKA_TOPIC_PREFIX": f"{instance}-{uuid.uuid4().hex[:6]}-",
            "CLICKHOUSE_URL": f"clickhouse://default:@127.0.0.1:9000/imageboard_{instance}",
            "IMAGEBOARD_VAR": self.var,
            "MEDIA_ROOT": os.path.join(self.var, "media"),
            "METRICS_PORT_BASE": "0",  # no /metrics ports to collide with other instances
            "RPC_TIMEOUT": "3",
            "LOG_LEVEL": "INFO",
            "POSTGRES_URL": self.postgres.url,
            **overrides,
        }
        self.saved = None
        self.config = None
        self.url = None

    def __enter__(self):
        self.saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            if not self.postgres.initialised:
                self.postgres.init()
            self.config = load_config()
            infra.ensure(self.config)
            self._reset()
            self.url = system.start(self.config, with_infra=False, timeout=90)["gateway"]
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _reset(self):
        system.stop(self.config, keep_infra=True)
        for service in self.config["SERVICES"]:
            drop_database(database_url(self.config, service))
        if "analytics" in self.config["SERVICES"]:
            from analytics_store.schema import drop_database as drop_clickhouse
            try:
                drop_clickhouse(self.config)
            except Exception:
                pass  # ClickHouse unreachable: nothing to drop

    def __exit__(self, *exc):
        try:
            if self.config is not None:
                system.stop(self.config, keep_infra=True)
                for service in self.config["SERVICES"]:
                    try:
                        drop_database(database_url(self.config, service))
                    except Exception:
                        pass
            if self.own_postgres:
                self.postgres.destroy()
        finally:
            os.environ.clear()
            os.environ.update(self.saved)

    def pid(self, name):
        return read_pid(name)  # inside the context IMAGEBOARD_VAR is this stack's var dir

    def kill(self, name):
        """SIGKILL a process of this stack (its whole group): a crash, not a shutdown."""
        pid = self.pid(name)
        assert pid_alive(pid), f"{name} is not running"
        os.killpg(pid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(pid), 10, what=f"{name} to die")

    def restart(self, name):
        """Start one of this stack's processes again (the same argv `up` uses)."""
        spec = next(s for s in processes.app_processes(self.config) if s.name == name)
        return processes.start(spec)

    def session(self):
        return requests.Session()

    def register(self, name):
        resp = requests.post(self.url + "/api/users/register/", timeout=15, json={
            "username": name, "email": f"{name}@example.com", "password": "password1"})
        assert resp.status_code == 201, resp.text
        return resp.json()

    def create_post(self, user, title="t", content="c"):
        resp = requests.post(self.url + "/api/posts/", headers=auth(user), timeout=15,
                             files={"title": (None, title), "content": (None, content)})
        assert resp.status_code == 201, resp.text
        return resp.json()

    def sql(self, service, query, args=()):
        from imageboard.db import connect_kwargs
        name, kwargs = connect_kwargs(database_url(self.config, service))
        conn = psycopg2.connect(dbname=name, **kwargs)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(query, args)
                return cur.fetchall()
        finally:
            conn.close()


def auth(user):
    return {"Authorization": f"Bearer {user['token']}"}


class Load:
    """Threads calling `actions` round-robin until stopped; every request is recorded as
    (started_at, action, status, seconds), status 0 for a connection error."""

    def __init__(self, base, actions, threads=3, pause=0.02):
        self.base, self.actions, self.threads, self.pause = base, actions, threads, pause
        self.records = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.workers = []

    def _run(self, offset):
        session = requests.Session()
        i = offset
        while not self.stopping.is_set():
            name, method, path, kwargs = self.actions[i % len(self.actions)](i)
            i += 1
            started = time.monotonic()
            try:
                status = session.request(method, self.base + path, timeout=30, **kwargs).status_code
            except requests.RequestException:
                status = 0
                session = requests.Session()
            with self.lock:
                self.records.append((started, name, status, time.monotonic() - started))
            time.sleep(self.pause)

    def __enter__(self):
        for n in range(self.threads):
            worker = threading.Thread(target=self._run, args=(n,), daemon=True)
            worker.start()
            self.workers.append(worker)
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for worker in self.workers:
            worker.join(40)

    def between(self, start, end, name=None):
        with self.lock:
            return [r for r in self.records if start <= r[0] < end and (name is None or r[1] == name)]

    @staticmethod
    def statuses(records):
        return dict(sorted(collections.Counter(r[2] for r in records).items()))

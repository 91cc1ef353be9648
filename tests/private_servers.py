"""Throwaway servers on their own ports and data directories, for benchmarks and fault
tests that must not load or break the shared ones: PostgreSQL (initdb + pg_ctl as the
postgres user), a Kafka-compatible broker (tansu, memory storage), RabbitMQ (its own
Erlang node name, ports and mnesia dir) and ClickHouse (its own config, ports and data dir,
run as the clickhouse user)."""
import os
import shutil
import subprocess
import tempfile

from imageboard_ops.infra import tansu_argv
from imageboard_ops.util import port_open, wait_for
from tests.ports import free_port


class PrivateTansu:
    """A Kafka-compatible broker (tansu, memory storage) on its own port."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            tansu_argv("127.0.0.1", self.port),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        wait_for(lambda: port_open("127.0.0.1", self.port), 10, what="private tansu")

    def stop(self):
        if self.proc is not None:
            self.proc.kill()  # a crash, not a clean shutdown (and tansu exits slowly on TERM)
            self.proc.wait(timeout=10)
            self.proc = None


class PrivatePostgres:
    """initdb + pg_ctl as the postgres user in a temp dir, on its own port."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ib-private-pg-")
        self.data = os.path.join(self.dir, "data")
        self.bin = sorted(d for d in (os.path.join("/usr/lib/postgresql", v, "bin")
                                      for v in os.listdir("/usr/lib/postgresql"))
                          if os.path.exists(os.path.join(d, "pg_ctl")))[-1]
        shutil.chown(self.dir, "postgres", "postgres")
        self.url = f"postgresql://imageboard:imageboard@127.0.0.1:{self.port}"
        self.initialised = False

    def _as_postgres(self, *argv):
        return subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def init(self):
        self._as_postgres(os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "postgres",
                          "--auth=trust", "-E", "UTF8")
        self.start()
        self._as_postgres(os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                          "-U", "postgres", "-c",
                          "CREATE ROLE imageboard LOGIN CREATEDB PASSWORD 'imageboard'")
        self.initialised = True

    def start(self):
        self._as_postgres(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-w", "-l",
                          os.path.join(self.dir, "log"), "-o",
                          f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                          f"-c max_connections=150", "start")

    def stop(self, mode="fast"):
        self._as_postgres(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-w", "-m", mode,
                          "stop")

    def destroy(self):
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRabbitMQ:
    """A second RabbitMQ node: its own Erlang node name, AMQP and distribution ports,
    mnesia and log dirs, and no plugins (the shared node owns the management port).
    Stopped with `rabbitmqctl -n <this node>`: never the shared node."""

    def __init__(self):
        self.port, self.dist_port = free_port(), free_port()
        self.node = f"ibprivate{self.port}@localhost"
        self.dir = tempfile.mkdtemp(prefix="ib-rabbit-")
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as fh:
            fh.write("[].\n")
        shutil.chown(self.dir, "rabbitmq", "rabbitmq")
        shutil.chown(os.path.join(self.dir, "enabled_plugins"), "rabbitmq", "rabbitmq")
        self.url = f"pyamqp://guest:guest@127.0.0.1:{self.port}/"
        self.env = dict(
            os.environ, RABBITMQ_NODENAME=self.node, RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=os.path.join(self.dir, "mnesia"),
            RABBITMQ_LOG_BASE=os.path.join(self.dir, "log"),
            RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.dir, "enabled_plugins"),
            RABBITMQ_PID_FILE=os.path.join(self.dir, "pid"),
            RABBITMQ_CONFIG_FILE=os.path.join(self.dir, "rabbitmq"))

    def start(self, timeout=60):
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env, cwd=self.dir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: port_open("127.0.0.1", self.port), timeout, what="private RabbitMQ")

    def stop(self):
        subprocess.run(["rabbitmqctl", "-n", self.node, "stop"], env=self.env, cwd=self.dir,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        wait_for(lambda: not port_open("127.0.0.1", self.port), 30, what="private RabbitMQ to stop")

    def destroy(self):
        if port_open("127.0.0.1", self.port):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateClickHouse:
    """clickhouse-server with its own config, ports and data dir, as the clickhouse user."""

    CONFIG = """<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>{dir}/log/server.log</log>
        <errorlog>{dir}/log/err.log</errorlog><size>100M</size><count>1</count></logger>
    <http_port>{http_port}</http_port>
    <tcp_port>{port}</tcp_port>
    <interserver_http_port>{interserver_port}</interserver_http_port>
    <listen_host>127.0.0.1</listen_host>
    <max_connections>256</max_connections>
    <max_concurrent_queries>100</max_concurrent_queries>
    <mark_cache_size>268435456</mark_cache_size>
    <path>{dir}/data/</path>
    <tmp_path>{dir}/tmp/</tmp_path>
    <user_files_path>{dir}/user_files/</user_files_path>
    <users_config>/etc/clickhouse-server/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mlock_executable>false</mlock_executable>
</yandex>
"""

    def __init__(self):
        self.port, self.http_port, self.interserver_port = free_port(), free_port(), free_port()
        self.dir = tempfile.mkdtemp(prefix="ib-clickhouse-")
        for sub in ("data", "tmp", "log", "user_files"):
            os.makedirs(os.path.join(self.dir, sub))
        self.config = os.path.join(self.dir, "config.xml")
        with open(self.config, "w") as fh:
            fh.write(self.CONFIG.format(dir=self.dir, port=self.port, http_port=self.http_port,
                                        interserver_port=self.interserver_port))
        for root, _dirs, files in os.walk(self.dir):
            for name in [root] + [os.path.join(root, f) for f in files]:
                shutil.chown(name, "clickhouse", "clickhouse")
        self.proc = None

    def url(self, database):
        return f"clickhouse://default:@127.0.0.1:{self.port}/{database}"

    def start(self, timeout=30):
        self.proc = subprocess.Popen(
            ["/usr/sbin/clickhouse-server", f"--config={self.config}"], cwd=self.dir,
            user="clickhouse", group="clickhouse", stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: port_open("127.0.0.1", self.port), timeout, what="private ClickHouse")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None

    def destroy(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

"""The gateway's RPC client against real RabbitMQ and real nameko containers."""
import threading
import time

import eventlet
import pytest
from kombu import Connection

from gateway.rpc import RpcClient, ServiceTimeout, reading, writing
from contracts.errors import NotFound, ServiceUnavailable
from imageboard.logs import get_request_id, set_request_id
from imageboard.service_kit import RequestContext, rpc

pytestmark = pytest.mark.integration
CALLS = []


def no_metrics(config):
    """Like every integration container, these serve no /metrics (the ports belong to the
    e2e stack); a service class still declares its metrics_port_offset."""
    return dict(config, METRICS_PORT_BASE=0)


class EchoService:
    name = "echo"
    metrics_port_offset = 0
    context = RequestContext()

    @rpc
    def echo(self, value, suffix=""):
        CALLS.append(value)
        return f"{value}{suffix}"

    @rpc
    def whoami(self):
        return get_request_id()  # what RequestContext put into this worker's log lines

    @rpc
    def slow(self, seconds):
        eventlet.sleep(seconds)
        CALLS.append(("slow", seconds))
        return seconds

    @rpc
    def missing(self):
        raise NotFound("nothing here", code="nothing")


@pytest.fixture
def echo(rabbit_config, container_factory):
    CALLS.clear()
    container = container_factory(EchoService, no_metrics(rabbit_config))
    container.start()
    return container


@pytest.fixture
def client(rabbit_config):
    c = RpcClient(rabbit_config, timeout=1)
    yield c
    c.close()


def test_call_and_parallel_calls(echo, client):
    assert client.read("echo", "echo", "a", suffix="!") == "a!"
    assert client.many([reading("echo", "echo", "x"), reading("echo", "echo", "y")]) == ["x", "y"]


def test_domain_errors_arrive_as_their_class(echo, client):
    with pytest.raises(NotFound) as err:
        client.read("echo", "missing")
    assert err.value.code == "nothing"


def test_request_id_reaches_the_worker_logs(echo, client):
    set_request_id("req-123")
    try:
        assert client.read("echo", "whoami") == "req-123"
    finally:
        set_request_id(None)


def test_service_never_started_is_503_at_once(client):
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        client.read("nosuchservice", "ping")
    assert time.monotonic() - started < 0.5


def test_stopped_service_is_503_and_its_call_expires_unexecuted(rabbit_config, container_factory, client):
    CALLS.clear()
    container = container_factory(EchoService, no_metrics(rabbit_config))
    container.start()
    container.stop()  # queue stays (durable), nobody consumes
    with pytest.raises(ServiceUnavailable):
        client.read("echo", "echo", "lost")
    time.sleep(0.2)
    # The request carried RPC_TIMEOUT as its expiration: a restarted service must not
    # run a call its caller gave up on.
    container = container_factory(EchoService, no_metrics(rabbit_config))
    container.start()
    assert client.read("echo", "echo", "fresh") == "fresh"
    assert CALLS == ["fresh"]


def test_slow_service_is_504_and_late_reply_is_dropped(echo, client):
    with pytest.raises(ServiceTimeout):
        client.read("echo", "slow", 1.5)
    eventlet.sleep(1)  # the late reply arrives meanwhile
    assert client.read("echo", "echo", "next") == "next"


def test_threads_each_get_their_own_channel(echo, client):
    results, errors = [], []

    def worker(n):
        try:
            for i in range(20):
                results.append(client.read("echo", "echo", f"{n}-{i}"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 160


def test_reconnects_after_the_connection_is_cut(echo, client, rabbit_config):
    assert client.read("echo", "echo", 1) == "1"
    # Kill this thread's connection from the broker side.
    client._local.channel.connection.collect()
    assert client.read("echo", "echo", 2) == "2"


def test_broker_unreachable_is_503():
    client = RpcClient({"AMQP_URI": "pyamqp://guest:guest@127.0.0.1:1/"}, timeout=1)
    with pytest.raises(ServiceUnavailable) as err:
        client.read("users", "ping")
    assert err.value.code == "broker_unavailable"


class QueuedService:
    """One worker at a time, so calls wait in the RPC queue in the order RabbitMQ picks."""
    name = "queued"
    metrics_port_offset = 0

    @rpc
    def list_posts(self, i):
        eventlet.sleep(0.05)
        CALLS.append(("read", i))

    @rpc
    def toggle_like(self, i):
        CALLS.append(("write", i))


def test_a_write_goes_before_the_reads_waiting_in_the_queue(rabbit_config, container_factory):
    CALLS.clear()
    container = container_factory(QueuedService, dict(no_metrics(rabbit_config), max_workers=1))
    container.start()
    client = RpcClient(rabbit_config, timeout=5)
    try:
        calls = [reading("queued", "list_posts", i) for i in range(5)]
        client.many(calls + [writing("queued", "toggle_like", 0)])
    finally:
        client.close()
    # The first read was already with the worker; the write overtook the four waiting.
    assert CALLS == [("read", 0), ("write", 0), ("read", 1), ("read", 2), ("read", 3), ("read", 4)]


def test_an_rpc_queue_declared_without_priorities_is_replaced(rabbit_config):
    from kombu import Exchange, Queue
    from imageboard.rpc_queues import RPC_QUEUE_ARGUMENTS
    from imageboard.service_kit import declare_rpc_queue
    exchange = Exchange("nameko-rpc", type="topic", durable=True)
    old = Queue("rpc-legacy", exchange=exchange, routing_key="legacy.*", durable=True)
    new = Queue("rpc-legacy", exchange=exchange, routing_key="legacy.*", durable=True,
                queue_arguments=RPC_QUEUE_ARGUMENTS)
    with Connection(rabbit_config["AMQP_URI"]) as conn:
        old(conn.channel()).declare()  # as a version before priorities left it
    assert declare_rpc_queue(rabbit_config["AMQP_URI"], new) is True
    assert declare_rpc_queue(rabbit_config["AMQP_URI"], new) is False  # now it matches


class CrashingService:
    """Its methods record that they started, then wait: the test kills the container
    mid-call, as a crash between a commit and the reply would."""
    name = "crashing"
    metrics_port_offset = 0
    started = []

    @rpc
    def create_thing(self, tag):
        CrashingService.started.append(tag)
        eventlet.sleep(30)

    @rpc
    def read_thing(self, tag):
        CrashingService.started.append(tag)
        eventlet.sleep(30)


@pytest.mark.parametrize("call, runs", [(writing, 1), (reading, 2)])
def test_a_write_runs_at_most_once_when_its_service_dies_mid_call(
        call, runs, rabbit_config, container_factory):
    """A write is acknowledged before it runs (imageboard/service_kit.py _RpcConsumer.take):
    the instance that takes over after a crash never runs it again. A read is acknowledged
    after its reply, so it is run again (harmless, and not lost)."""
    CrashingService.started = []
    config = dict(no_metrics(rabbit_config), max_workers=1)
    first = container_factory(CrashingService, config)
    first.start()
    client = RpcClient(config, timeout=6)
    outcome = []
    method = "create_thing" if call is writing else "read_thing"
    caller = threading.Thread(target=lambda: outcome.append(
        _outcome(lambda: client.many([call("crashing", method, "one")]))))
    caller.start()
    deadline = time.monotonic() + 5
    while not CrashingService.started:
        assert time.monotonic() < deadline, "the call never started"
        time.sleep(0.05)
    first.kill()
    second = container_factory(CrashingService, config)
    second.start()
    caller.join(10)
    second.kill()
    client.close()
    assert CrashingService.started == ["one"] * runs
    assert outcome and outcome[0] in ("ServiceTimeout", "ServiceUnavailable")


def _outcome(fn):
    try:
        fn()
        return "answered"
    except (ServiceTimeout, ServiceUnavailable) as exc:
        return type(exc).__name__

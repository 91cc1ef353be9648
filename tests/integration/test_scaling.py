"""Scaling out a service is starting another instance: every `nameko run` of a service
consumes the same RPC queue (rpc-<service>), and RabbitMQ spreads the calls over them."""
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from imageboard_ops.util import wait_for
from tests.integration.service_processes import ServiceProcess, queue_consumers

pytestmark = pytest.mark.integration

CALLS = 40


@pytest.fixture
def two_users_instances(service_config, migrated, tmp_path):
    migrated("users")
    instances = [ServiceProcess("users", service_config["AMQP_URI"], tmp_path) for _ in range(2)]
    try:
        for instance in instances:
            instance.start()
        wait_for(lambda: queue_consumers(service_config["AMQP_URI"], "users") == 2, 20,
                 what="two consumers on rpc-users")
        yield instances
    finally:
        for instance in instances:
            instance.stop()


def test_two_instances_of_users_share_its_rpc_load(two_users_instances, service_config):
    first, second = two_users_instances
    before = [i.rpc_calls("ping") for i in two_users_instances]
    with ClusterRpcProxy(service_config, timeout=10) as rpc:
        replies = [rpc.users.ping() for _ in range(CALLS)]
    assert replies == ["pong"] * CALLS

    handled = [i.rpc_calls("ping") - b for i, b in zip(two_users_instances, before)]
    print(f"\n{CALLS} users.ping calls over 2 instances: pid {first.proc.pid} handled "
          f"{handled[0]:.0f}, pid {second.proc.pid} handled {handled[1]:.0f}")
    assert sum(handled) == CALLS
    # RabbitMQ delivers round-robin to the consumers of one queue: both take a fair share.
    assert min(handled) >= CALLS // 4, handled

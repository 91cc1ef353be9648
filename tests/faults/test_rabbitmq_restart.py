"""(b) RabbitMQ restarted (a PRIVATE node: its own Erlang node name, ports and mnesia dir;
the shared broker is never touched): the gateway and every service reconnect on their
own; requests meeting the outage get 503, never a 500."""
import time

import pytest
import requests

from tests.faults.support import Load, PrivateStack, auth
from tests.private_servers import PrivateRabbitMQ

pytestmark = pytest.mark.faults

SERVICES = ["users", "posts", "comments"]


def test_gateway_and_services_reconnect_after_a_rabbitmq_restart():
    broker = PrivateRabbitMQ()
    broker.start()
    try:
        with PrivateStack("fb", AMQP_URI=broker.url, SERVICES=f"[{', '.join(SERVICES)}]") as stack:
            user = stack.register("fault_b_user")
            post = stack.create_post(user)
            actions = [
                lambda i: ("feed", "GET", "/api/posts/", {}),
                lambda i: ("comments", "GET", f"/api/comments/?post_id={post['id']}", {}),
                lambda i: ("profile", "GET", f"/api/users/profile/{user['id']}/", {}),
                lambda i: ("comment", "POST", "/api/comments/",
                           {"headers": auth(user), "json": {"post_id": post["id"], "content": f"c{i}"}}),
            ]
            pids = {name: stack.pid(name) for name in SERVICES + ["gateway"]}
            with Load(stack.url, actions, threads=4) as load:
                time.sleep(3)
                stopped_at = time.monotonic()
                broker.stop()
                time.sleep(3)
                broker.start()
                started_at = time.monotonic()
                recovered_at = None
                deadline = time.monotonic() + 90
                while time.monotonic() < deadline:
                    if requests.get(stack.url + "/ready", timeout=15).status_code == 200:
                        recovered_at = time.monotonic()
                        break
                    time.sleep(0.5)
                time.sleep(2)
                after_from = time.monotonic()
                time.sleep(6)
                ended_at = time.monotonic()

            during = load.between(stopped_at, started_at)
            between = load.between(started_at, after_from)
            after = load.between(after_from, ended_at)
            print(f"\nfault (b) rabbitmq restart: before={Load.statuses(load.between(0, stopped_at))} "
                  f"broker down={Load.statuses(during)} reconnecting={Load.statuses(between)} "
                  f"ready {round(recovered_at - started_at, 1) if recovered_at else None}s after "
                  f"the broker was back; after={Load.statuses(after)}")

            assert recovered_at is not None, "the stack never became ready again"
            assert set(Load.statuses(during)) <= {200, 201, 503, 504}, Load.statuses(during)
            assert 503 in Load.statuses(during)
            assert after and set(Load.statuses(after)) <= {200, 201}, Load.statuses(after)
            for name in ("feed", "comments", "profile", "comment"):
                assert any(r[1] == name for r in after), name
            assert not [r for r in load.records if r[2] == 0 or (r[2] >= 500 and r[2] not in (503, 504))]
            assert {name: stack.pid(name) for name in pids} == pids  # nothing was restarted
    finally:
        broker.destroy()

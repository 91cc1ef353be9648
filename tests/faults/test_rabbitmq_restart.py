"""(b) RabbitMQ restarted (a PRIVATE node: its own Erlang node name, ports and mnesia dir;
the shared broker is never touched) under a load of reads and writes.

Asserts:
- requests meeting the outage get 503 or 504 (504: the call reached a service whose reply
  could not come back), never a 500 or a dropped connection;
- the gateway and every service reconnect on their own: /ready answers 200 again, then a
  window of only 2xx for every action, with every process the same pid as before (no
  restart, by anyone);
- the reconciliation of support.reconcile over every request: 0 acknowledged writes
  lost, none applied twice, one outbox event each, every event once in ClickHouse and
  every notification once. A write answered 503/504 may or may not have been applied
  (its commit can precede the lost reply): counted as indeterminate, and whichever
  happened must be complete (row, event, ClickHouse, notification).
"""
import time

import pytest

from tests.faults.support import Load, PrivateStack, Writes, reconcile
from tests.private_servers import PrivateRabbitMQ

pytestmark = pytest.mark.faults

READS = ("feed", "comments", "profile")


def test_every_process_reconnects_after_a_rabbitmq_restart_and_no_write_is_lost():
    broker = PrivateRabbitMQ()
    broker.start()
    try:
        with PrivateStack("fb", AMQP_URI=broker.url) as stack:
            users = [stack.register(f"fault_b_{n}") for n in range(3)]
            post = stack.create_post(users[0])
            writes = Writes(stack, users, [(post["id"], users[0]["id"])])
            reads = [
                lambda i: ("feed", "GET", "/api/posts/", {}),
                lambda i: ("comments", "GET", f"/api/comments/?post_id={post['id']}", {}),
                lambda i: ("profile", "GET", f"/api/users/profile/{users[1]['id']}/", {}),
            ]
            pids = stack.pids()
            with Load(stack.url, reads, threads=3) as load, \
                    Load(stack.url, [writes.comment, writes.like, writes.post], threads=2,
                         on_record=writes.on_record) as write_load:
                time.sleep(3)
                stopped_at = time.monotonic()
                broker.stop()
                time.sleep(3)
                broker.start()
                started_at = time.monotonic()
                ready_s = stack.wait_ready(timeout=90)
                healthy_at = max(load.wait_healthy(started_at, READS, timeout=60),
                                 write_load.wait_healthy(started_at, ("comment", "like", "post"),
                                                         timeout=60))
                time.sleep(2)
                ended_at = time.monotonic()
            records = sorted(load.records + write_load.records)

            during = [r for r in records if stopped_at <= r.started < started_at]
            between = [r for r in records if started_at <= r.started < healthy_at]
            after = [r for r in records if healthy_at <= r.started < ended_at]
            result = reconcile(stack, records + stack.ledger)
            print(f"\nfault (b) rabbitmq restart: before={Load.statuses([r for r in records if r.started < stopped_at])} "
                  f"broker down={Load.statuses(during)} reconnecting={Load.statuses(between)} "
                  f"ready {ready_s:.1f}s after the broker was back, only 2xx from "
                  f"{healthy_at - started_at:.1f}s; after={Load.statuses(after)}")
            print(f"fault (b) reconciliation: {result.summary()}")

            assert set(Load.statuses(during)) <= {200, 201, 503, 504}, Load.statuses(during)
            assert 503 in Load.statuses(during)  # the outage was seen, and reported as 503
            assert after and set(Load.statuses(after)) <= {200, 201}, Load.statuses(after)
            assert {r.name for r in after} >= set(READS) | {"comment", "like", "post"}
            assert not [r for r in records if r.status == 0 or (r.status >= 500 and r.status not in (503, 504))]
            assert stack.pids() == pids  # every process reconnected by itself: nothing restarted
            assert not result.problems, result.problems
    finally:
        broker.destroy()

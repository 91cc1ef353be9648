"""(c) The Kafka broker (a private tansu, memory storage) killed for 30 s while writes go
on, then started again empty (its topics, messages and consumer offsets are gone).

Asserts:
- every write still succeeds (2xx): the outboxes hold the events meanwhile, and some
  really were held back (unpublished when the broker came back);
- the reconciliation of support.reconcile: 0 acknowledged writes lost, none applied
  twice, one outbox event each and every outbox row published, every event exactly once
  in ClickHouse by event_id (the relays' replay window republishes recent events to the
  empty broker: the raw copies are counted, and deduplicated by event_id), and each
  like/comment/registration gave exactly one notification;
- no process was restarted (same pids): relays, consumers and the pipeline reconnect
  by themselves.
"""
import time

import pytest

from tests.faults.support import Load, PrivateStack, Writes, reconcile
from tests.private_servers import PrivateTansu

pytestmark = pytest.mark.faults

OUTAGE_S = 30


def unpublished(stack):
    return sum(stack.sql(service, "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0]
               for service in ("users", "posts", "comments", "notifications"))


def test_kafka_down_30s_under_writes_loses_and_duplicates_nothing():
    broker = PrivateTansu()
    broker.start()
    try:
        with PrivateStack("fc", KAFKA_BOOTSTRAP_SERVERS=broker.address) as stack:
            users = [stack.register(f"fault_c_{n}") for n in range(4)]
            posts = [(stack.create_post(user)["id"], user["id"]) for user in users[:2]]
            writes = Writes(stack, users, posts)
            actions = [writes.comment, writes.like, writes.comment, writes.like, writes.post]
            pids = stack.pids()
            with Load(stack.url, actions, threads=2, pause=0.05,
                      on_record=writes.on_record) as load:
                time.sleep(3)
                broker.stop()
                stopped = time.monotonic()
                time.sleep(OUTAGE_S)
                held_back = unpublished(stack)
                broker.start()
                down_s = time.monotonic() - stopped
                time.sleep(5)
            during = load.between(stopped, stopped + down_s)
            result = reconcile(stack, load.records + stack.ledger)
            print(f"\nfault (c) broker down {down_s:.1f}s; unpublished outbox events when it "
                  f"came back: {held_back}; writes {Load.statuses(load.records)} "
                  f"({len(during)} while it was down)")
            print(f"fault (c) reconciliation: {result.summary()}")

            assert set(Load.statuses(load.records)) <= {200, 201}, Load.statuses(load.records)
            assert len(during) > 100  # the writes went on through the outage
            assert held_back > 0  # the outage really held events back
            assert stack.pids() == pids  # nothing was restarted
            assert not result.problems, result.problems
    finally:
        broker.stop()

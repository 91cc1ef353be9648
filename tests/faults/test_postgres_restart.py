"""(e) PostgreSQL (the stack's private cluster, every service's database) stopped with
`pg_ctl -m fast` (which terminates every connection of every pool) for 5 s under a load
of reads and writes, then started again.

Asserts:
- requests meeting the outage get 503, never a 500, a 504 or a dropped connection;
- every service recovers its connection pool by itself: each endpoint answers 2xx
  again, then a window of only 2xx for every action, and every process has the same pid
  as before (nothing restarted);
- the reconciliation of support.reconcile over every request: 0 acknowledged writes
  lost, none applied twice, one outbox event each and every outbox row published (the
  relays lose their connections too), every event exactly once in ClickHouse and every
  notification once (the notifications consumer loses its database mid-stream). A write
  answered 503 may or may not have been committed: counted as indeterminate, and
  whichever happened must be complete.
"""
import time

import pytest

from tests.faults.support import Load, PrivateStack, Writes, auth, reconcile
from tests.private_servers import PrivatePostgres

pytestmark = pytest.mark.faults

READS = ("feed", "detail", "comments", "profile", "notifications")
WRITES = ("comment", "like", "post")


def test_services_recover_their_pools_after_a_postgres_restart():
    postgres = PrivatePostgres()
    try:
        with PrivateStack("fe", postgres=postgres) as stack:
            users = [stack.register(f"fault_e_{n}") for n in range(3)]
            user = users[0]
            post = stack.create_post(user)
            writes = Writes(stack, users, [(post["id"], user["id"])])
            reads = [
                lambda i: ("feed", "GET", "/api/posts/", {}),
                lambda i: ("detail", "GET", f"/api/posts/{post['id']}/", {}),
                lambda i: ("comments", "GET", f"/api/comments/?post_id={post['id']}", {}),
                lambda i: ("profile", "GET", f"/api/users/profile/{user['id']}/", {}),
                lambda i: ("notifications", "GET", "/api/notifications/", {"headers": auth(user)}),
            ]
            pids = stack.pids()
            with Load(stack.url, reads, threads=4) as load, \
                    Load(stack.url, [writes.comment, writes.like, writes.post], threads=2,
                         on_record=writes.on_record) as write_load:
                time.sleep(3)
                stopped_at = time.monotonic()
                postgres.stop("fast")  # terminates every connection of every pool
                time.sleep(5)
                postgres.start()
                started_at = time.monotonic()
                recovered = {}

                def every_endpoint_answered(records):
                    for r in records:
                        if r.started >= started_at and r.status in (200, 201):
                            recovered.setdefault(r.name, r.started + r.seconds - started_at)
                    return set(recovered) >= set(READS + WRITES)
                load.wait_until(lambda _: every_endpoint_answered(
                    load.records + write_load.records), 60, "every endpoint to answer 2xx")
                healthy_at = max(load.wait_healthy(started_at, READS, timeout=60),
                                 write_load.wait_healthy(started_at, WRITES, timeout=60))
                time.sleep(2)
                ended_at = time.monotonic()
            records = sorted(load.records + write_load.records)

            during = [r for r in records if stopped_at + 0.2 <= r.started < started_at]
            after = [r for r in records if healthy_at <= r.started < ended_at]
            by_name_after = {name: Load.statuses([r for r in after if r.name == name])
                             for name in READS + WRITES}
            result = reconcile(stack, records + stack.ledger)
            print(f"\nfault (e) postgres restart: before={Load.statuses([r for r in records if r.started < stopped_at])} "
                  f"during={Load.statuses(during)} recovered_after_s="
                  f"{ {k: round(v, 1) for k, v in sorted(recovered.items())} } "
                  f"only 2xx from {healthy_at - started_at:.1f}s; after={by_name_after}")
            print(f"fault (e) reconciliation: {result.summary()}")

            assert set(Load.statuses(during)) <= {200, 201, 503}, Load.statuses(during)
            assert 503 in Load.statuses(during)  # the outage was seen, and reported as 503
            for name, statuses in by_name_after.items():
                assert statuses and set(statuses) <= {200, 201}, (name, statuses)
            assert not [r for r in records if r.status == 0 or (r.status >= 500 and r.status != 503)]
            assert stack.pids() == pids  # every pool recovered by itself: nothing restarted
            assert not result.problems, result.problems
    finally:
        postgres.destroy()

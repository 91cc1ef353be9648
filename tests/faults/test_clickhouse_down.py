"""(d) ClickHouse (a private server) stopped for 10 s under a load of analytics reads,
feed reads and writes, then started again.

Asserts:
- while it is down the analytics endpoints answer 503 within the RPC timeout, and
  everything else (feed, posts, comments, likes) keeps answering 2xx;
- the pipeline catches up by itself: the reconciliation of support.reconcile finds every
  outbox event exactly once in ClickHouse by event_id, 0 acknowledged writes lost, none
  applied twice, one event each, and every notification once (the notifications path
  does not touch ClickHouse: checked because it runs, not because this fault reaches it);
- the analytics service answers again by itself (a poll with a deadline), and its post
  statistics count exactly the posts acknowledged;
- no process was restarted (same pids).
"""
import datetime
import time

import pytest
import requests

from tests.faults.support import (
    Load,
    PrivateStack,
    Writes,
    acknowledged,
    auth,
    reconcile,
)
from tests.private_servers import PrivateClickHouse

pytestmark = pytest.mark.faults

RPC_TIMEOUT = 3.0


def test_analytics_503_while_clickhouse_is_down_and_the_pipeline_catches_up():
    clickhouse = PrivateClickHouse()
    clickhouse.start()
    database = "imageboard_faults_d"
    try:
        with PrivateStack("fd", CLICKHOUSE_URL=clickhouse.url(database),
                          RPC_TIMEOUT=str(RPC_TIMEOUT)) as stack:
            user, other = stack.register("fault_d_user"), stack.register("fault_d_other")
            admin = stack.make_admin(user)
            post = stack.create_post(other)
            today = datetime.date.today().isoformat()
            stats_path = f"/api/analytics/posts/stats/?start_date={today}&end_date={today}"
            writes = Writes(stack, [user, other], [(post["id"], other["id"])])
            actions = [
                lambda i: ("stats", "GET", stats_path, {"headers": auth(admin)}),
                lambda i: ("activity", "GET", "/api/analytics/user-activity/", {"headers": auth(user)}),
                lambda i: ("feed", "GET", "/api/posts/", {}),
                writes.post,
                writes.comment,
                writes.like,
            ]
            pids = stack.pids()
            with Load(stack.url, actions, threads=4, pause=0.1, on_record=writes.on_record) as load:
                time.sleep(3)
                stopped_at = time.monotonic()
                clickhouse.stop()
                time.sleep(10)
                restarting_at = time.monotonic()  # it may answer before start() returns
                clickhouse.start()
                time.sleep(2)

            result = reconcile(stack, load.records + stack.ledger, timeout=90)
            posts_made = [r for r in load.records + stack.ledger
                          if r.name == "post" and acknowledged(r.status)]

            stats = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                stats = requests.get(stack.url + stats_path, headers=auth(admin), timeout=15)
                if stats.status_code == 200:
                    break
                time.sleep(0.5)

            down = [r for r in load.between(stopped_at + 0.5, restarting_at)
                    if r.started + r.seconds < restarting_at]
            analytics_before = [r for r in load.records if r.name in ("stats", "activity")
                                and r.started + r.seconds < stopped_at]
            analytics_down = [r for r in down if r.name in ("stats", "activity")]
            others_down = [r for r in down if r.name in ("feed", "post", "comment", "like")]
            print(f"\nfault (d) clickhouse down: analytics before={Load.statuses(analytics_before)} "
                  f"analytics down={Load.statuses(analytics_down)} "
                  f"max_latency={max(r.seconds for r in analytics_down):.2f}s "
                  f"others down={Load.statuses(others_down)} posts written={len(posts_made)} "
                  f"stats after: {stats.status_code} {stats.text[:200]}")
            print(f"fault (d) reconciliation: {result.summary()}")

            assert analytics_before and set(Load.statuses(analytics_before)) == {200}
            assert analytics_down and set(Load.statuses(analytics_down)) == {503}
            assert max(r.seconds for r in analytics_down) <= RPC_TIMEOUT + 1.5
            assert others_down and set(Load.statuses(others_down)) <= {200, 201}
            assert not [r for r in load.records if r.status == 0 or (r.status >= 500 and r.status != 503)]
            assert stats.status_code == 200, stats.text
            assert stats.json()["total_posts"] == len(posts_made)
            assert stack.pids() == pids  # nothing was restarted
            assert not result.problems, result.problems
    finally:
        clickhouse.destroy()

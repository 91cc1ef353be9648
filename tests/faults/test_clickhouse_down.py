"""(d) ClickHouse (a private server) down: the analytics endpoints answer 503 within the
RPC timeout while everything else keeps working, and the pipeline catches up once it is
back: every event the outboxes published reaches ClickHouse, and the statistics count
the posts written during the outage."""
import datetime
import time

import pytest
import requests
from clickhouse_driver import Client

from imageboard.tokens import issue_token
from tests.faults.support import Load, PrivateStack, auth
from tests.faults.test_kafka_outage import clickhouse_counts, outbox_events
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
            user = stack.register("fault_d_user")
            admin = {"token": issue_token(stack.config, user["id"], user["username"], True)}
            today = datetime.date.today().isoformat()
            stats_path = f"/api/analytics/posts/stats/?start_date={today}&end_date={today}"
            posts_made = []

            def write(i):
                return ("post", "POST", "/api/posts/",
                        {"headers": auth(user), "files": {"title": (None, f"d{i}"), "content": (None, "x")}})
            actions = [
                lambda i: ("stats", "GET", stats_path, {"headers": auth(admin)}),
                lambda i: ("activity", "GET", "/api/analytics/user-activity/", {"headers": auth(user)}),
                lambda i: ("feed", "GET", "/api/posts/", {}),
                write,
            ]
            with Load(stack.url, actions, threads=4, pause=0.1) as load:
                time.sleep(3)
                stopped_at = time.monotonic()
                clickhouse.stop()
                time.sleep(10)
                restarting_at = time.monotonic()  # it may answer before start() returns
                clickhouse.start()
                started_at = time.monotonic()
                time.sleep(2)
            posts_made = [r for r in load.records if r[1] == "post" and r[2] == 201]

            client = Client.from_url(clickhouse.url(database))
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                truth, seen = outbox_events(stack), clickhouse_counts(client, database)
                if all(p for _, p in truth.values()) and set(truth) <= set(seen):
                    break
                time.sleep(1)
            caught_up_s = time.monotonic() - started_at
            stats = requests.get(stack.url + stats_path, headers=auth(admin), timeout=15)

            down = [r for r in load.between(stopped_at + 0.5, restarting_at)
                    if r[0] + r[3] < restarting_at]
            analytics_down = [r for r in down if r[1] in ("stats", "activity")]
            others_down = [r for r in down if r[1] in ("feed", "post")]
            missing = set(truth) - set(seen)
            print(f"\nfault (d) clickhouse down: analytics before={Load.statuses(load.between(0, stopped_at))} "
                  f"analytics down={Load.statuses(analytics_down)} "
                  f"max_latency={max(r[3] for r in analytics_down):.2f}s "
                  f"others down={Load.statuses(others_down)} posts written={len(posts_made)} "
                  f"caught up {caught_up_s:.1f}s after restart: outbox={len(truth)} "
                  f"clickhouse={len(seen)} missing={len(missing)} "
                  f"stats after: {stats.status_code} {stats.text[:200]}")
            print("fault (d) analytics while down (s after the stop, status, latency): "
                  + ", ".join(f"{r[0] - stopped_at:.1f}/{r[2]}/{r[3]:.1f}" for r in analytics_down))

            assert analytics_down and set(Load.statuses(analytics_down)) == {503}
            assert max(r[3] for r in analytics_down) <= RPC_TIMEOUT + 1.5
            assert others_down and set(Load.statuses(others_down)) <= {200, 201}
            assert not missing, sorted(missing)[:10]
            assert stats.status_code == 200
            assert stats.json()["total_posts"] == len(posts_made)
    finally:
        clickhouse.destroy()

"""The moderation queue gauges on the running stack: reports made and resolved through the
API move imageboard_moderation_open_reports and
imageboard_moderation_oldest_open_report_age_seconds on the moderation service's /metrics
(its timer reads the queue every QUEUE_METRICS_INTERVAL seconds; the age is worked out at
scrape time). Reports other tests left open stay in the queue: the count is checked by its
exact change, and the age against the oldest open report the API lists."""
import math
import time
from datetime import datetime

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from imageboard.metrics import metrics_host, metrics_port
from imageboard_ops.components import components
from imageboard_ops.util import wait_for
from services.moderation.service import QUEUE_METRICS_INTERVAL
from tests.e2e.conftest import bearer
from tests.e2e.test_moderation_api import comment_of, post_of, report
from tests.e2e.test_posts_api import make_admin

pytestmark = pytest.mark.e2e

OPEN = "imageboard_moderation_open_reports"
AGE = "imageboard_moderation_oldest_open_report_age_seconds"
# Long enough for two refreshes of the gauges.
REFRESH_WAIT = 3 * QUEUE_METRICS_INTERVAL


def metrics_url(config):
    [moderation] = [c for c in components(config) if c.name == "moderation"]
    host = metrics_host(config)
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{host}:{metrics_port(config, moderation.metrics_port_offset)}/metrics"


def gauges(config):
    """(open reports, oldest age, the scrape's start and end as epoch seconds)."""
    started = time.time()
    resp = requests.get(metrics_url(config), timeout=5)
    ended = time.time()
    assert resp.status_code == 200
    values = {s.name: s.value for f in text_string_to_metric_families(resp.text)
              for s in f.samples if s.name in (OPEN, AGE)}
    assert set(values) == {OPEN, AGE}, "the moderation service exports both gauges"
    return values[OPEN], values[AGE], started, ended


def open_queue(api, admin):
    """(open report count, the oldest open report's created_at as epoch seconds or None),
    as the API lists them (newest first: the oldest is on the last page)."""
    first = api("GET", "/api/reports/?status=open&limit=100", headers=bearer(admin))
    assert first.status_code == 200, first.text
    count = first.json()["count"]
    if count == 0:
        return 0, None
    last_page = math.ceil(count / 100)
    page = api("GET", f"/api/reports/?status=open&limit=100&page={last_page}",
               headers=bearer(admin)).json()
    oldest = min(datetime.fromisoformat(r["created_at"]).timestamp() for r in page["results"])
    return count, oldest


def settled(config, api, admin, expected_count):
    """Waits until the gauges show `expected_count` open reports and the API agrees; returns
    (age, its expected value's bounds)."""
    seen = {}

    def check():
        count, age, started, ended = gauges(config)
        seen.update(count=count, age=age)
        if count != expected_count:
            return False
        api_count, oldest = open_queue(api, admin)
        assert api_count == expected_count, "the queue changed under the test"
        seen.update(oldest=oldest, started=started, ended=ended)
        return True
    try:
        wait_for(check, REFRESH_WAIT, what=f"{OPEN} == {expected_count}")
    except TimeoutError:
        pytest.fail(f"the gauges never showed {expected_count} open reports: last {seen}")
    age, oldest, started, ended = seen["age"], seen["oldest"], seen["started"], seen["ended"]
    if oldest is None:
        assert age == 0
    else:
        # The age at scrape time: between the scrape's start and end minus created_at.
        assert started - oldest - 0.05 <= age <= ended - oldest + 0.05, (age, oldest, started)
    return age


def test_reports_made_and_resolved_move_the_queue_gauges(api, register, config):
    admin = make_admin(config, api, register("mmadm"))
    author, reporter = register("mma"), register("mmb")
    posts = [post_of(api, author, f"metrics {i}") for i in range(2)]
    comment = comment_of(api, author, posts[0]["id"])

    baseline, _ = open_queue(api, admin)
    settled(config, api, admin, baseline)

    made_at = time.time()
    made = []
    for target_type, target_id in (("post", posts[0]["id"]), ("post", posts[1]["id"]),
                                   ("comment", comment["id"])):
        resp = report(api, reporter, target_type, target_id)
        assert resp.status_code == 201, resp.text
        made.append(resp.json())
    # A 409 (a second open report by the same reporter) adds nothing.
    assert report(api, reporter, "post", posts[0]["id"]).status_code == 409

    age = settled(config, api, admin, baseline + 3)
    assert age > 0
    if baseline == 0:  # the oldest open report is the test's first
        first_at = datetime.fromisoformat(made[0]["created_at"]).timestamp()
        assert first_at >= made_at - 0.05
        assert age <= time.time() - made_at + 0.05

    # Resolving the first report: one fewer; with no older report, the second is the oldest.
    resp = api("POST", f"/api/reports/{made[0]['id']}/resolve/", headers=bearer(admin),
               json={"action": "dismiss", "note": "fine"})
    assert resp.status_code == 200, resp.text
    age = settled(config, api, admin, baseline + 2)
    if baseline == 0:
        second_at = datetime.fromisoformat(made[1]["created_at"]).timestamp()
        assert 0 < age <= time.time() - second_at + 0.05

    for item in made[1:]:
        resp = api("POST", f"/api/reports/{item['id']}/resolve/", headers=bearer(admin),
                   json={"action": "dismiss"})
        assert resp.status_code == 200, resp.text
    # Back to what the queue held before: 0 and an age of 0 if it was empty.
    settled(config, api, admin, baseline)

"""Analytics end to end: actions through the public API (posts, likes, unlikes, deletes,
comments) plus older history published to Kafka in the documented envelope, then both
analytics endpoints compared with the truth computed here, independently.

Truth for today's posts comes from the posts API itself (every live post of the stack with
its likes_count, whoever created it in this session); truth for the injected history and
for this test's users' activity comes from the actions this test performed.
"""
import time
from datetime import date, timedelta

import pytest
from confluent_kafka import Producer

from tests import synthetic_events as syn
from imageboard.config import topic
from imageboard.timefmt import utcnow
from tests.analytics_truth import Truth, post_stats, rounded
from tests.e2e.conftest import bearer
from tests.e2e.test_posts_api import create, make_admin

pytestmark = pytest.mark.e2e
HISTORY_POST_IDS = 10**12  # far above the posts service's ids: no collision


def publish(config, events):
    producer = Producer({"bootstrap.servers": config["KAFKA_BOOTSTRAP_SERVERS"], "acks": "all"})
    for event in events:
        name, key, value = syn.encode(event)
        producer.produce(topic(config, name), value, key=key)
    assert producer.flush(15) == 0


def live_posts_from_api(api):
    """Every post that exists now, as the posts service reports it."""
    posts, page = [], 1
    while True:
        body = api("GET", f"/api/posts/?limit=100&page={page}").json()
        for p in body["results"]:
            posts.append((p["id"], p["author"]["id"], p["author"]["username"], p["title"],
                          date.fromisoformat(p["created_at"][:10]), p["likes_count"]))
        if not body["next"]:
            return posts
        page += 1


def eventually_equal(fetch, expected, timeout=30):
    """The pipeline is asynchronous: poll until the answer matches (or show the last one)."""
    deadline = time.monotonic() + timeout
    while True:
        got = rounded(fetch())
        if got == rounded(expected) or time.monotonic() > deadline:
            assert got == rounded(expected)
            return
        time.sleep(0.5)


def test_analytics_agree_with_the_truth(api, register, config):
    today = utcnow().date()
    alice, bob, carol = register("an_alice"), register("an_bob"), register("an_carol")
    admin = make_admin(config, api, register("an_admin"))
    truth, history = Truth(), []

    # Older days, through Kafka exactly as the relays publish: alice posts, bob likes and
    # comments, one post is deleted, carol likes and unlikes.
    for n, days_ago in enumerate((12, 9, 9, 5)):
        pid, day = HISTORY_POST_IDS + n, today - timedelta(days=days_ago)
        truth.post(pid, alice["id"], alice["username"], f"old {n}", day)
        history.append(syn.post_created(pid, alice["id"], alice["username"], f"old {n}",
                                        syn.at(day, 3600)))
    for pid, user, days_ago in ((0, bob, 11), (1, bob, 8), (1, carol, 8), (1, carol, 7),
                                (3, carol, 4), (2, bob, 8)):
        pid, day = HISTORY_POST_IDS + pid, today - timedelta(days=days_ago)
        liked = truth.toggle_like(pid, user["id"], day)
        history.append(syn.post_like(liked, pid, alice["id"], truth.posts[pid]["title"], user["id"],
                                     user["username"], truth.likes_count(pid),
                                     syn.at(day, 7200 + len(history))))
    for n, (pid, days_ago) in enumerate(((1, 8), (2, 8), (3, 3))):
        pid, day = HISTORY_POST_IDS + pid, today - timedelta(days=days_ago)
        truth.comment(pid, bob["id"], day)
        history.append(syn.comment_created(HISTORY_POST_IDS + n, pid, alice["id"],
                                           truth.posts[pid]["title"], bob["id"], bob["username"],
                                           syn.at(day, 9000)))
    truth.delete(HISTORY_POST_IDS + 2)
    history.append(syn.post_deleted(HISTORY_POST_IDS + 2, alice["id"], "old 2", alice["id"],
                                    syn.at(today - timedelta(days=6), 100)))
    publish(config, history)

    # Today, through the public API.
    posts = {}
    for author, title in ((alice, "a1"), (alice, "a2"), (bob, "b1"), (carol, "c1")):
        resp = create(api, author, title)
        assert resp.status_code == 201, resp.text
        posts[title] = resp.json()["id"]
        truth.post(posts[title], author["id"], author["username"], title, today)
    for user, title in ((bob, "a1"), (carol, "a1"), (alice, "b1"), (carol, "b1"),
                        (carol, "a1"), (bob, "c1"), (carol, "c1")):
        resp = api("POST", f"/api/posts/{posts[title]}/like/", headers=bearer(user))
        assert resp.status_code == 200, resp.text
        assert resp.json()["liked"] == truth.toggle_like(posts[title], user["id"], today)
    for user, title in ((bob, "a1"), (carol, "a1"), (alice, "c1"), (bob, "c1")):
        resp = api("POST", "/api/comments/", headers=bearer(user),
                   json={"post_id": posts[title], "content": "hi"})
        assert resp.status_code == 201, resp.text
        truth.comment(posts[title], user["id"], today)
    assert api("DELETE", f"/api/posts/{posts['c1']}/", headers=bearer(carol)).status_code == 204
    truth.delete(posts["c1"])

    # user-activity: the three users, from their own token and from someone else's.
    for user in (alice, bob, carol):
        eventually_equal(lambda: api("GET", f"/api/analytics/user-activity/?user_id={user['id']}",
                                     headers=bearer(admin)).json(),
                         truth.user_activity(user["id"], today))
    own = api("GET", "/api/analytics/user-activity/", headers=bearer(bob)).json()
    assert rounded(own) == rounded(truth.user_activity(bob["id"], today))
    assert own["likes_given"] == 3 and own["comments_written"] == 3  # by hand, too

    # posts/stats: history alone, today alone (every live post of the stack), both.
    def stats(start, end):
        resp = api("GET", f"/api/analytics/posts/stats/?start_date={start}&end_date={end}",
                   headers=bearer(admin))
        assert resp.status_code == 200, resp.text
        return resp.json()

    old_start, old_end = today - timedelta(days=12), today - timedelta(days=1)
    eventually_equal(lambda: stats(old_start, old_end), truth.post_stats(old_start, old_end))
    old = stats(old_start, old_end)
    assert old["total_posts"] == 3 and old["likes_statistics"]["total_likes"] == 3
    assert old["likes_statistics"]["most_liked_post"]["post_id"] == HISTORY_POST_IDS
    live = [p for p in live_posts_from_api(api) if p[4] == today] + [
        p for p in truth.live_posts() if p[4] < today]
    for start, end in ((today, today), (old_start, today)):
        eventually_equal(lambda: stats(start, end), post_stats(live, start, end))


def test_analytics_access_and_validation(api, register, config):
    user = register("an_user")
    admin = make_admin(config, api, register("an_boss"))
    url = "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-31"
    assert api("GET", url).status_code == 401
    forbidden = api("GET", url, headers=bearer(user))
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "admin_required"
    for query, field in (("start_date=2026-01-31&end_date=2026-01-01", "end_date"),
                         ("start_date=2026/01/01&end_date=2026-01-31", "start_date"),
                         ("start_date=2026-01-01", "end_date")):
        resp = api("GET", f"/api/analytics/posts/stats/?{query}", headers=bearer(admin))
        assert resp.status_code == 400 and field in resp.json()["error"]["fields"], resp.text
    empty = api("GET", "/api/analytics/posts/stats/?start_date=1999-01-01&end_date=1999-01-10",
                headers=bearer(admin)).json()
    assert empty["total_posts"] == 0 and empty["posts_per_day"] == 0.0
    assert empty["likes_statistics"] == {"total_likes": 0, "avg_likes_per_post": 0.0,
                                         "most_liked_post": None}

    assert api("GET", "/api/analytics/user-activity/").status_code == 401
    missing = api("GET", "/api/analytics/user-activity/?user_id=987654321", headers=bearer(user))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "user_not_found"
    assert api("GET", "/api/analytics/user-activity/?user_id=abc",
               headers=bearer(user)).status_code == 400
    mine = api("GET", "/api/analytics/user-activity/", headers=bearer(user))
    assert mine.status_code == 200 and mine.json()["user_id"] == user["id"]
    timeline = mine.json()["activity_timeline"]
    assert len(timeline) == 30 and timeline[-1]["date"] == utcnow().date().isoformat()
    assert all(day == {"date": day["date"], "posts": 0, "comments": 0, "likes": 0}
               for day in timeline)


def test_moderation_analytics_through_the_gateway(api, register, config):
    """GET /api/analytics/moderation/: admins only (403 admin_required), days checked (400
    invalid_days), and a report made and resolved on the moderation-events topic is counted
    once the pipeline has it. The stack's totals are shared with other tests: the check is
    on the difference this test's events make."""
    user, admin = register("mod_stats_user"), make_admin(config, api, register("mod_stats_admin"))
    path = "/api/analytics/moderation/?days=2"
    assert api("GET", path).status_code == 401
    refused = api("GET", path, headers=bearer(user))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_required"
    for bad in ("0", "366", "x"):
        resp = api("GET", f"/api/analytics/moderation/?days={bad}", headers=bearer(admin))
        assert resp.status_code == 400 and resp.json()["error"]["code"] == "invalid_days", bad
    before = api("GET", path, headers=bearer(admin))
    assert before.status_code == 200, before.text
    base = before.json()
    assert len(base["reports_per_day"]) == 2
    today = utcnow().date().isoformat()

    report_id = 10**12 + int(time.time() * 1000) % 10**9  # no collision with real reports
    now = utcnow()
    reason = f"stats-{report_id}"
    publish(config, [
        syn.envelope("report.created", report_id, user["id"], {
            "report_id": report_id, "target_type": "post", "target_id": 1, "post_id": 1,
            "target_author_id": admin["id"], "reporter_id": user["id"], "reason": "spam"}, now),
        syn.envelope("report.created", report_id + 1, user["id"], {
            "report_id": report_id + 1, "target_type": "post", "target_id": 1, "post_id": 1,
            "target_author_id": admin["id"], "reporter_id": user["id"], "reason": "other"}, now),
        syn.envelope("report.resolved", report_id, admin["id"], {
            "report_id": report_id, "target_type": "post", "target_id": 1, "action": "remove",
            "resolved_by": admin["id"], "reported_at": now.isoformat()}, now),
        syn.envelope("content.removed", 1, admin["id"], {
            "target_type": "post", "target_id": 1, "post_id": 1, "post_title": "t",
            "author_id": admin["id"], "reason": reason, "removed_by": admin["id"],
            "report_id": report_id}, now)])

    def counted():
        body = api("GET", path, headers=bearer(admin)).json()
        return (body["open_reports"] - base["open_reports"],
                body["reports_per_day"][-1]["created"] - base["reports_per_day"][-1]["created"],
                body["reports_per_day"][-1]["resolved"] - base["reports_per_day"][-1]["resolved"],
                [r for r in body["removals_by_reason"] if r["reason"] == reason])
    deadline = time.monotonic() + 30
    while counted() != (1, 2, 1, [{"reason": reason, "count": 1}]):
        assert time.monotonic() < deadline, counted()
        time.sleep(0.5)
    assert base["reports_per_day"][-1]["date"] == today

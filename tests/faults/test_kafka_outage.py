"""(c) The Kafka broker (a private tansu) stopped for 30 s while writes go on: every write
still succeeds (the outboxes hold the events), and afterwards no event is missing from or
duplicated in ClickHouse, and the notifications database holds exactly the expected
notifications, once each."""
import random
import threading
import time

import pytest
import requests
from clickhouse_driver import Client

from tests.faults.support import PrivateStack, auth
from tests.private_servers import PrivateTansu

pytestmark = pytest.mark.faults

OUTAGE_S = 30
OUTBOX_SERVICES = ["users", "posts", "comments", "notifications"]


class Writer(threading.Thread):
    """Posts, comments and first-time likes by a few users, recording what succeeded."""

    def __init__(self, base, users, posts):
        super().__init__(daemon=True)
        self.base, self.users, self.posts = base, users, list(posts)
        self.liked = set()
        self.comments, self.likes, self.failures = [], [], []
        self.stopping = threading.Event()
        self.rng = random.Random(3)
        self.session = requests.Session()

    def call(self, method, path, user, **kwargs):
        resp = self.session.request(method, self.base + path, headers=auth(user), timeout=30, **kwargs)
        if resp.status_code not in (200, 201):
            self.failures.append((method, path, resp.status_code, resp.text[:200]))
            return None
        return resp.json()

    def run(self):
        i = 0
        while not self.stopping.is_set():
            i += 1
            user = self.rng.choice(self.users)
            if i % 5 == 0:
                post = self.call("POST", "/api/posts/", user,
                                 files={"title": (None, f"outage {i}"), "content": (None, "x")})
                if post:
                    self.posts.append((post["id"], user["id"]))
            post_id, owner = self.rng.choice(self.posts)
            comment = self.call("POST", "/api/comments/", user,
                                json={"post_id": post_id, "content": f"during outage {i}"})
            if comment:
                self.comments.append((post_id, owner, user["id"]))
            candidates = [(p, o) for p, o in self.posts if (user["id"], p) not in self.liked]
            if candidates:
                post_id, owner = self.rng.choice(candidates)
                like = self.call("POST", f"/api/posts/{post_id}/like/", user)
                if like:
                    assert like["liked"] is True
                    self.liked.add((user["id"], post_id))
                    self.likes.append((post_id, owner, user["id"]))
            time.sleep(0.05)


def outbox_events(stack):
    events = {}
    for service in OUTBOX_SERVICES:
        for event_id, event_type, published in stack.sql(
                service, "SELECT event_id::text, event_type, published_at IS NOT NULL FROM outbox"):
            events[event_id] = (event_type, published)
    return events


def clickhouse_counts(client, database):
    rows = client.execute(f"SELECT toString(event_id), count() FROM {database}.events GROUP BY event_id")
    return {event_id: n for event_id, n in rows}


def test_kafka_down_30s_under_writes_loses_and_duplicates_nothing():
    broker = PrivateTansu()
    broker.start()
    try:
        with PrivateStack("fc", KAFKA_BOOTSTRAP_SERVERS=broker.address) as stack:
            users = [stack.register(f"fault_c_{n}") for n in range(4)]
            posts = []
            for user in users[:2]:
                post = stack.create_post(user, title="seed", content="x")
                posts.append((post["id"], user["id"]))
            writer = Writer(stack.url, users, posts)
            writer.start()
            time.sleep(3)
            broker.stop()
            stopped = time.monotonic()
            writes_before_stop = len(writer.comments) + len(writer.likes)
            time.sleep(OUTAGE_S)
            unpublished_at_restart = sum(1 for _, published in outbox_events(stack).values()
                                         if not published)
            broker.start()
            print(f"\nfault (c) broker down {time.monotonic() - stopped:.1f}s; "
                  f"unpublished outbox events when it came back: {unpublished_at_restart}")
            time.sleep(5)
            writer.stopping.set()
            writer.join(60)
            assert not writer.failures, writer.failures[:5]

            database = stack.config["CLICKHOUSE_URL"].rsplit("/", 1)[1]
            client = Client.from_url(stack.config["CLICKHOUSE_URL"])
            expected_notifications = {
                "SYSTEM": len(users),
                "LIKE": sum(1 for _, owner, liker in writer.likes if owner != liker),
                "COMMENT": sum(1 for _, owner, author in writer.comments if owner != author),
            }

            def settled():
                truth = outbox_events(stack)
                seen = clickhouse_counts(client, database)
                notes = dict(stack.sql("notifications", "SELECT type, count(*) FROM notifications GROUP BY type"))
                done = (all(published for _, published in truth.values())
                        and set(truth) <= set(seen)
                        and all(notes.get(t, 0) >= n for t, n in expected_notifications.items()))
                return done, truth, seen, notes
            deadline = time.monotonic() + 120
            done = False
            while not done and time.monotonic() < deadline:
                done, truth, seen, notes = settled()
                time.sleep(1)
            time.sleep(3)  # anything late (a duplicate) would land now
            _, truth, seen, notes = settled()
            final_dups = client.execute(
                f"SELECT count() FROM (SELECT event_id, count() AS n FROM {database}.events FINAL "
                f"GROUP BY event_id HAVING n > 1)")[0][0]
            missing = set(truth) - set(seen)
            raw_dups = {e: n for e, n in seen.items() if n > 1}
            note_dups = stack.sql("notifications", "SELECT source_event_id, user_id, count(*) "
                                                   "FROM notifications GROUP BY 1, 2 HAVING count(*) > 1")
            print(f"fault (c) writes: {writes_before_stop} before the stop, "
                  f"{len(writer.comments) + len(writer.likes)} in all "
                  f"({len(writer.comments)} comments, {len(writer.likes)} likes, "
                  f"{len(writer.posts) - 2} posts); outbox events={len(truth)} "
                  f"clickhouse distinct={len(seen)} missing={len(missing)} "
                  f"duplicates raw={len(raw_dups)} after FINAL={final_dups}; "
                  f"notifications={dict(sorted(notes.items()))} "
                  f"expected={expected_notifications} duplicated={len(note_dups)}")

            assert unpublished_at_restart > 0  # the outage really held events back
            assert not missing, sorted(missing)[:10]
            assert final_dups == 0
            assert not note_dups
            assert {t: notes.get(t, 0) for t in expected_notifications} == expected_notifications
    finally:
        broker.stop()

"""Live updates (contract v2 section 7) on the running stack: the stream process started by
the same code as `imageboard up` (imageboard_ops/processes.py), fed by the stack's Kafka."""
import json
from datetime import datetime
import os
import socket
import threading
import time

import pytest
import requests

from imageboard_ops import nginx
from imageboard_ops.system import stream_url
from tests.e2e.conftest import bearer
from tests.ports import free_port

pytestmark = pytest.mark.e2e


class SSE:
    """A Server-Sent Events reader on a background thread: events as dicts
    {event, id, data (parsed JSON)}; `comments` counts ": ..." lines."""

    def __init__(self, url, params=None, headers=None):
        self.events, self.comments, self.closed = [], 0, threading.Event()
        self.resp = requests.get(url, params=params, headers=headers, stream=True, timeout=30)
        self.status = self.resp.status_code
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()
        else:
            self.closed.set()

    def _read(self):
        block = {}
        try:
            for raw in self.resp.iter_lines(chunk_size=1, decode_unicode=True):
                if raw == "":
                    if "event" in block or "data" in block:
                        if "data" in block:
                            block["data"] = json.loads(block["data"])
                        self.events.append(block)
                    block = {}
                elif raw.startswith(":"):
                    self.comments += 1
                else:
                    name, _, value = raw.partition(":")
                    block[name] = value[1:] if value.startswith(" ") else value
        except Exception:
            pass
        finally:
            self.closed.set()

    def wait(self, predicate, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events if predicate(e)]
            if found:
                return found[0]
            time.sleep(0.02)
        seen = [(e.get("event"), (e.get("data") or {}).get("id")) for e in self.events]
        raise AssertionError(f"no such event within {timeout} s; got {seen[-20:]}")

    def close(self):
        """Drops the connection under the reader thread (closing the response from here
        would race its read)."""
        if self.closed.is_set():
            self.resp.close()
            return
        try:
            self.resp.raw._connection.sock.shutdown(socket.SHUT_RDWR)
        except Exception:
            pass
        self.closed.wait(5)


def wait_ready(base, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/ready", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base}/ready did not answer 200 within {timeout} s")


@pytest.fixture
def stream(stack, config):
    wait_ready(stream_url(config))  # Kafka read up to date (system.start waits for /health)
    base = stream_url(config) + "/api/stream/"
    opened = []

    def open_(streams, **kwargs):
        params = {"streams": streams}
        headers = dict(kwargs.pop("headers", {}))
        for name in ("ticket", "last_event_id"):
            if name in kwargs:
                params[name] = kwargs.pop(name)
        if "last_id" in kwargs:
            headers["Last-Event-ID"] = kwargs.pop("last_id")
        client = SSE(base, params, headers)
        opened.append(client)
        return client
    yield open_
    for client in opened:
        client.close()


def create_post(api, user, title="live title", content="live content"):
    resp = api("POST", "/api/posts/", files={"title": (None, title), "content": (None, content)},
               headers=bearer(user))
    assert resp.status_code == 201, resp.text
    return resp.json()


def ticket(api, user):
    resp = api("POST", "/api/stream/ticket/", headers=bearer(user))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"ticket", "expires_in"} and body["expires_in"] == 30
    assert len(body["ticket"]) <= 128
    return body["ticket"]


def error_of(client):
    return client.status, client.resp.json()["error"]["code"]


def test_a_like_reaches_the_authors_user_stream_as_a_notification_within_2_s(api, register, stream):
    alice, bob = register("sse_a"), register("sse_b")
    post = create_post(api, alice)
    client = stream("user", ticket=ticket(api, alice))
    assert client.status == 200
    assert client.resp.headers["Content-Type"].startswith("text/event-stream")
    assert client.resp.headers["Cache-Control"] == "no-cache"
    assert client.resp.headers["X-Accel-Buffering"] == "no"
    time.sleep(0.3)
    started = time.monotonic()
    assert api("POST", f"/api/posts/{post['id']}/like/", headers=bearer(bob)).status_code == 200
    event = client.wait(lambda e: e.get("event") == "notification"
                        and e["data"]["type"] == "LIKE", timeout=10.0)
    received = time.time()
    # Contract section 7: within 2 s of the notification being stored (its created_at). From
    # the like it is the notifications consumer's delay too: 2 s on a quiet machine (the
    # benchmark's figures), more when the shared CI cores are busy, hence the looser bound.
    stored = datetime.fromisoformat(event["data"]["created_at"]).timestamp()
    assert received - stored <= 2.0, received - stored
    assert time.monotonic() - started <= 5.0
    assert event["data"]["message"] == f'{bob["username"]} liked your post "live title"'
    assert event["data"]["data"]["post_id"] == post["id"] and event["id"]
    # Alice's notification is hers alone: bob's own user stream never gets it.
    assert api("GET", "/api/notifications/", headers=bearer(bob)).status_code == 200


def test_a_ticket_is_good_once(api, register, stream):
    alice = register("sse_once")
    once = ticket(api, alice)
    assert stream("user", ticket=once).status == 200
    assert error_of(stream("user", ticket=once)) == (401, "invalid_ticket")
    assert error_of(stream("user", ticket="made-up")) == (401, "invalid_ticket")


def test_resume_with_last_event_id_loses_nothing_and_repeats_nothing(api, register, stream):
    alice = register("sse_resume")
    first = stream("public")
    a = create_post(api, alice, title="resume A")
    seen = first.wait(lambda e: e.get("event") == "post_created" and e["data"]["id"] == a["id"])
    assert seen["data"]["title"] == "resume A" and seen["data"]["author"]["id"] == alice["id"]
    assert "likes" not in seen["data"]
    first.close()  # the connection drops; meanwhile two more posts
    b = create_post(api, alice, title="resume B")
    c = create_post(api, alice, title="resume C")
    time.sleep(1.0)
    again = stream("public", last_id=seen["id"])
    again.wait(lambda e: e.get("event") == "post_created" and e["data"]["id"] == c["id"])
    time.sleep(0.5)
    mine = [e["data"]["id"] for e in again.events if e.get("event") == "post_created"
            and e["data"]["author"]["id"] == alice["id"]]
    assert mine == [b["id"], c["id"]]
    # last_event_id= does the same for browsers (a used ticket cannot reconnect).
    third = stream("public", last_event_id=seen["id"])
    third.wait(lambda e: e.get("event") == "post_created" and e["data"]["id"] == c["id"])
    # An id this process cannot serve exactly (unknown here, or older than the replay
    # window: tests/unit/test_stream_hub.py): reset first.
    stale = stream("public", last_id="not-one-of-ours")
    assert stale.wait(lambda e: True)["event"] == "reset"


def test_a_deleted_posts_content_never_reaches_anonymous_followers(api, register, stream):
    """Deletion: post_deleted, then nothing more about the post, and a client resuming
    from before gets the deletion without the content (removal: the test below)."""
    alice, bob = register("sse_del"), register("sse_del_b")
    public = stream("public")
    before = public.wait(lambda e: True, timeout=20) if public.events else None
    post = create_post(api, alice, title="soon gone", content="secret words")
    public.wait(lambda e: e.get("event") == "post_created" and e["data"]["id"] == post["id"])
    follower = stream(f"post:{post['id']}")
    assert follower.status == 200
    time.sleep(0.3)
    assert api("DELETE", f"/api/posts/{post['id']}/", headers=bearer(alice)).status_code == 204
    gone = follower.wait(lambda e: e.get("event") == "post_deleted")
    assert gone["data"] == {"id": post["id"]}
    public.wait(lambda e: e.get("event") == "post_deleted" and e["data"]["id"] == post["id"])
    assert api("POST", f"/api/posts/{post['id']}/like/", headers=bearer(bob)).status_code == 404
    time.sleep(0.5)
    assert [e["event"] for e in follower.events] == ["post_deleted"]
    # A new follower: 404; one resuming from before the post: the deletion only.
    assert error_of(stream(f"post:{post['id']}")) == (404, "post_not_found")
    created = [e for e in public.events if e.get("event") == "post_created"
               and e["data"]["id"] == post["id"]][0]
    index = public.events.index(created)
    resume_from = public.events[index - 1]["id"] if index else (before or {}).get("id")
    if resume_from:
        resumed = stream("public", last_id=resume_from)
        resumed.wait(lambda e: e.get("event") == "post_deleted" and e["data"]["id"] == post["id"])
        assert not [e for e in resumed.events if e.get("event") == "post_created"
                    and e["data"]["id"] == post["id"]]
        assert "secret words" not in json.dumps(resumed.events)


def test_comments_and_likes_reach_the_posts_stream_in_order(api, register, stream):
    alice, bob = register("sse_order"), register("sse_order_b")
    post = create_post(api, alice)
    follower = stream(f"post:{post['id']}")
    time.sleep(0.3)
    assert api("POST", "/api/comments/", json={"post_id": post["id"], "content": "first!"},
               headers=bearer(bob)).status_code == 201
    assert api("POST", f"/api/posts/{post['id']}/like/", headers=bearer(bob)).status_code == 200
    likes = follower.wait(lambda e: e.get("event") == "likes")
    assert likes["data"] == {"post_id": post["id"], "likes_count": 1}
    names = [e["event"] for e in follower.events]
    assert names.index("comment_created") < names.index("likes")
    comment = follower.events[names.index("comment_created")]["data"]
    assert comment["content"] == "first!" and comment["author"]["id"] == bob["id"]


def test_logout_closes_the_user_stream_within_1_s(api, register, stream):
    alice = register("sse_logout")
    client = stream("user,public", ticket=ticket(api, alice))
    assert client.status == 200
    time.sleep(0.3)
    assert api("POST", "/api/users/logout/", headers=bearer(alice)).status_code == 204
    started = time.monotonic()
    assert client.closed.wait(1.5)
    assert time.monotonic() - started <= 1.0


def test_errors_before_the_stream_starts(api, register, stream, config):
    alice = register("sse_err")
    assert error_of(stream("")) == (400, "invalid_stream")
    assert error_of(stream("public,nonsense")) == (400, "invalid_stream")
    assert error_of(stream("post:abc")) == (400, "invalid_stream")
    many = ",".join(f"post:{n}" for n in range(1, 12))
    assert error_of(stream(many)) == (400, "too_many_streams")
    assert stream("public,public,public").status == 200  # repeats count once
    assert error_of(stream("user")) == (401, "not_authenticated")
    assert error_of(stream("public", headers={"Authorization": "Bearer nope"})) == (401, "invalid_token")
    assert error_of(stream("moderation", headers=bearer(alice))) == (403, "admin_required")
    assert error_of(stream("post:999999999")) == (404, "post_not_found")
    # Five connections per user (SSE_MAX_CONNECTIONS_PER_USER), over every process.
    for _ in range(5):
        assert stream("user", headers=bearer(alice)).status == 200
    over = stream("user", headers=bearer(alice))
    assert error_of(over) == (429, "too_many_connections")
    assert int(over.resp.headers["Retry-After"]) > 0


def test_a_bearer_token_revoked_since_the_ticket_gives_token_revoked(api, register, stream):
    alice = register("sse_rev")
    later = ticket(api, alice)
    assert api("POST", "/api/users/logout-all/", headers=bearer(alice)).status_code == 204
    time.sleep(1.0)
    assert error_of(stream("user", ticket=later)) == (401, "token_revoked")


def test_ready_and_heartbeat_settings(config, stack):
    resp = requests.get(stream_url(config) + "/ready", timeout=5)
    assert resp.status_code == 200 and resp.json()["checks"]["kafka"] == "ok"
    assert "imageboard_stream_connections" in requests.get(stream_url(config) + "/metrics",
                                                           timeout=5).text


def test_deleting_the_account_closes_its_user_stream_within_1_s(api, register, stream):
    alice = register("sse_erase")
    client = stream("user", headers=bearer(alice))
    assert client.status == 200
    time.sleep(0.3)
    resp = api("DELETE", "/api/users/me/", json={"password": "password1"}, headers=bearer(alice))
    assert resp.status_code == 204, resp.text
    started = time.monotonic()
    assert client.closed.wait(1.5) and time.monotonic() - started <= 1.0


@pytest.mark.skipif(not os.path.exists(nginx.NGINX_BIN), reason="nginx not installed")
def test_through_nginx_events_are_not_buffered(api, register, stack, config, tmp_path):
    """nginx/ templates: /api/stream/ goes to the stream process, unbuffered, HTTP/1.1."""
    port = free_port()
    conf = nginx.render(tmp_path, f"127.0.0.1:{port}", stack.split("://", 1)[1],
                        config["MEDIA_ROOT"], stream=stream_url(config).split("://", 1)[1])
    ok, output = nginx.check(conf)
    assert ok, output
    nginx.start(conf)
    try:
        front = f"http://127.0.0.1:{port}"
        alice = register("sse_nginx")
        client = SSE(front + "/api/stream/", {"streams": "public"})
        assert client.status == 200 and client.resp.headers["X-Request-ID"]
        time.sleep(0.3)
        started = time.monotonic()
        post = create_post(api, alice, title="through nginx")
        client.wait(lambda e: e.get("event") == "post_created" and e["data"]["id"] == post["id"],
                    timeout=2.0)
        assert time.monotonic() - started < 2.0
        bad = requests.get(front + "/api/stream/?streams=nope", timeout=5)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_stream"
        client.close()
    finally:
        nginx.stop(conf)


def test_sigterm_ends_every_stream_cleanly_and_another_process_resumes_it(api, register, stream,
                                                                           config, tmp_path):
    """A second stream process on its own port (as a second replica): SIGTERM ends its
    streams (the response completes, no reset connection) and the process shuts down; the
    client reconnects to the stack's process with its last id and misses nothing."""
    import signal
    import subprocess
    import sys

    alice = register("sse_term")
    # An id from the stack's process, then a post before the second process exists: a
    # fresh process reads SSE_REPLAY_SECONDS back, so it resumes that id with the post.
    here = stream("public")
    p0 = create_post(api, alice, title="before the second process")
    id0 = here.wait(lambda e: e.get("event") == "post_created" and e["data"]["id"] == p0["id"])["id"]
    p1 = create_post(api, alice, title="while it was not there")
    here.wait(lambda e: e.get("event") == "post_created" and e["data"]["id"] == p1["id"])
    port = free_port()
    env = dict(os.environ, STREAM_BIND=f"127.0.0.1:{port}", PYTHONUNBUFFERED="1")
    log = open(tmp_path / "stream2.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streaming"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        other = f"http://127.0.0.1:{port}"
        wait_ready(other)
        replayed = SSE(other + "/api/stream/", {"streams": "public"}, {"Last-Event-ID": id0})
        replayed.wait(lambda e: e.get("event") == "post_created" and e["data"]["id"] == p1["id"])
        assert [e["data"]["id"] for e in replayed.events if e.get("event") == "post_created"
                and e["data"]["author"]["id"] == alice["id"]] == [p1["id"]]
        replayed.close()
        client = SSE(other + "/api/stream/", {"streams": "public"})
        assert client.status == 200
        first = create_post(api, alice, title="before the restart")
        seen = client.wait(lambda e: e.get("event") == "post_created" and e["data"]["id"] == first["id"])
        proc.send_signal(signal.SIGTERM)
        assert client.closed.wait(5), "the stream was not ended"
        # uvicorn re-raises the signal once it has shut down (exit status "killed by
        # SIGTERM", as its supervisor expects); the shutdown itself completed.
        assert proc.wait(20) in (0, -signal.SIGTERM)
        log.flush()
        assert b"Application shutdown complete" in (tmp_path / "stream2.log").read_bytes()
        later = create_post(api, alice, title="after the restart")
        resumed = stream("public", last_id=seen["id"])
        resumed.wait(lambda e: e.get("event") == "post_created" and e["data"]["id"] == later["id"])
        assert not [e for e in resumed.events if e.get("event") == "post_created"
                    and e["data"]["id"] == first["id"]]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_moderation_stream_is_for_admins_and_closes_when_the_right_goes(api, register,
                                                                            stream, config):
    """The stream opens for admins only; a revoked admin right closes it within 1 s (the
    access feed)."""
    from nameko.standalone.rpc import ClusterRpcProxy

    root = register("sse_mod")
    assert error_of(stream("moderation", headers=bearer(root))) == (403, "admin_required")
    with ClusterRpcProxy(config, timeout=10) as rpc:
        rpc.users.set_admin(root["username"])
        time.sleep(1.0)
        client = stream("moderation,public", headers=bearer(root))
        assert client.status == 200
        time.sleep(0.3)
        rpc.users.set_admin(root["username"], False)
        started = time.monotonic()
    assert client.closed.wait(1.5) and time.monotonic() - started <= 1.0


def test_a_removed_post_vanishes_from_anonymous_streams_and_a_restore_brings_it_back(
        api, register, stream, config):
    """Contract v2 sections 4.3 and 7: removal is post_deleted (then nothing more of the
    post, and a resume from before it never shows the content), restore post_created; an
    edit is post_updated with the new title on both streams."""
    from tests.e2e.test_posts_api import make_admin

    admin = make_admin(config, api, register("sse_rm_admin"))
    alice, bob = register("sse_rm"), register("sse_rm_b")
    public = stream("public")
    post = create_post(api, alice, title="to be edited", content="removable words")
    public.wait(lambda e: e.get("event") == "post_created" and e["data"]["id"] == post["id"])
    follower = stream(f"post:{post['id']}")
    time.sleep(0.3)
    assert api("PATCH", f"/api/posts/{post['id']}/", json={"title": "edited live"},
               headers=bearer(alice)).status_code == 200
    for client in (public, follower):
        edited = client.wait(lambda e: e.get("event") == "post_updated"
                             and e["data"]["id"] == post["id"])
        assert edited["data"]["title"] == "edited live" and edited["data"]["edited"] is True
    mark = public.events[-1]["id"]
    resp = api("POST", f"/api/posts/{post['id']}/remove/", json={"reason": "spam"},
               headers=bearer(admin))
    assert resp.status_code == 200, resp.text
    for client in (public, follower):
        gone = client.wait(lambda e: e.get("event") == "post_deleted"
                           and e["data"]["id"] == post["id"])
        assert gone["data"] == {"id": post["id"]}
    assert error_of(stream(f"post:{post['id']}")) == (404, "post_not_found")
    # Nothing about it while removed, and a resume from before the removal: the deletion only.
    assert api("POST", "/api/comments/", json={"post_id": post["id"], "content": "x"},
               headers=bearer(bob)).status_code == 404
    resumed = stream("public", last_id=mark)
    resumed.wait(lambda e: e.get("event") == "post_deleted" and e["data"]["id"] == post["id"])
    assert "removable words" not in json.dumps(resumed.events)
    after = len(follower.events)
    time.sleep(0.5)
    assert follower.events[after:] == []

    resp = api("POST", f"/api/posts/{post['id']}/restore/", json={"reason": "mistake"},
               headers=bearer(admin))
    assert resp.status_code == 200, resp.text
    back = public.wait(lambda e: e.get("event") == "post_created" and e["data"]["id"] == post["id"]
                       and e["data"]["title"] == "edited live")
    assert "removed_reason" not in back["data"]


def test_comment_edits_and_deletions_reach_the_posts_stream(api, register, stream):
    alice, bob = register("sse_cm"), register("sse_cm_b")
    post = create_post(api, alice)
    follower = stream(f"post:{post['id']}")
    time.sleep(0.3)
    parent = api("POST", "/api/comments/", json={"post_id": post["id"], "content": "parent"},
                 headers=bearer(bob)).json()
    reply = api("POST", "/api/comments/", json={"post_id": post["id"], "content": "reply",
                                                "parent": parent["id"]}, headers=bearer(alice))
    assert reply.status_code == 201, reply.text
    assert api("PATCH", f"/api/comments/{parent['id']}/", json={"content": "parent, edited"},
               headers=bearer(bob)).status_code == 200
    edited = follower.wait(lambda e: e.get("event") == "comment_updated")
    assert (edited["data"]["id"], edited["data"]["content"]) == (parent["id"], "parent, edited")
    assert api("DELETE", f"/api/comments/{parent['id']}/", headers=bearer(bob)).status_code == 204
    gone = follower.wait(lambda e: e.get("event") == "comment_deleted")
    # It has a reply: its placeholder form, as the thread lists it.
    listed = api("GET", f"/api/comments/{parent['id']}/").json()
    assert gone["data"] == listed
    assert (listed["author"], listed["content"], listed["is_deleted"]) == (None, "", True)


def test_the_moderation_stream_sends_reports_to_admins(api, register, stream, config):
    from tests.e2e.test_posts_api import make_admin

    admin = make_admin(config, api, register("sse_rep_admin"))
    alice, bob = register("sse_rep"), register("sse_rep_b")
    post = create_post(api, alice)
    queue = stream("moderation", headers=bearer(admin))
    assert queue.status == 200
    time.sleep(0.3)
    made = api("POST", "/api/reports/", json={"target_type": "post", "target_id": post["id"],
                                              "reason": "spam"}, headers=bearer(bob))
    assert made.status_code == 201, made.text
    created = queue.wait(lambda e: e.get("event") == "report_created")
    assert created["data"]["id"] == made.json()["id"] and created["data"]["status"] == "open"
    assert api("POST", f"/api/reports/{made.json()['id']}/resolve/", json={"action": "dismiss"},
               headers=bearer(admin)).status_code == 200
    resolved = queue.wait(lambda e: e.get("event") == "report_resolved")
    assert resolved["data"]["status"] == "resolved"
    assert resolved["data"]["resolution"]["action"] == "dismiss"


def start_second_stream_process(tmp_path, **settings):
    import subprocess
    import sys
    port = free_port()
    env = dict(os.environ, STREAM_BIND=f"127.0.0.1:{port}", PYTHONUNBUFFERED="1", **settings)
    log = open(tmp_path / f"stream-{port}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streaming"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base)
    return proc, base, port


def test_a_client_that_reads_nothing_never_slows_the_others(api, register, tmp_path):
    """A client that reads nothing (tiny receive window) beside one that reads, on a process
    with SSE_CONNECTION_BUFFER=8: the reader gets all 90 events (bursts larger than the
    buffer included: only a writer stuck on its socket is dropped). The drop itself is
    tests/unit/test_stream_hub.py's: on loopback the kernel takes megabytes before a socket
    is full."""
    import re
    # A short replay window: a fresh process replays the last SSE_REPLAY_SECONDS of the
    # topics, which after a busy suite is a burst far past 8 x 8 events for any client
    # connected meanwhile (in CI that dropped both clients before the test wrote a post).
    proc, base, port = start_second_stream_process(tmp_path, SSE_CONNECTION_BUFFER="8",
                                                   SSE_REPLAY_SECONDS="2")
    time.sleep(2.5)  # what it replayed is out before the clients connect
    request = b"GET /api/stream/?streams=public HTTP/1.1\r\nHost: x\r\n\r\n"
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    slow.connect(("127.0.0.1", port))
    slow.sendall(request)
    fast = socket.create_connection(("127.0.0.1", port))
    fast.sendall(request)
    body = bytearray()

    def read():
        try:
            while chunk := fast.recv(65536):
                body.extend(chunk)
        except OSError:
            pass
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        time.sleep(0.3)
        writers = [register("sse_slow") for _ in range(9)]
        made = [create_post(api, writers[n % 9], title=f"big {n}", content="x" * 5000)["id"]
                for n in range(90)]
        pattern = re.compile(rb'"id":(\d+),"title":"big \d+"')
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = [int(m) for m in pattern.findall(bytes(body))]
            if made[-1] in got:
                break
            time.sleep(0.1)
        assert [p for p in got if p in made] == made
    finally:
        # Shut down before closing, and wait for the reader: a socket closed under a
        # greenthread still reading it leaves the hub a listener on its fd number, which
        # the next user of that number (a subprocess pipe in a later test) trips over.
        for sock in (fast, slow):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        reader.join(5)
        fast.close()
        slow.close()
        proc.kill()

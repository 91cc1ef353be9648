"""Seed a running stack through its public API only, in parallel: users (register), posts
(multipart), comments and likes (distinct user/post pairs, so every toggle is a like)."""
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests


class Client:
    """One requests.Session per thread (connection reuse), failures counted, not raised."""

    def __init__(self, base):
        self.base = base
        self.local = threading.local()
        self.errors = []
        self.retried = 0
        self.lock = threading.Lock()

    def session(self):
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        return session

    def call(self, method, path, expected, retries=5, **kwargs):
        """A 503 (e.g. PostgreSQL out of connection slots on a shared server) is retried:
        seeding is set-up, not the measurement. Anything else is counted as an error."""
        for attempt in range(retries + 1):
            try:
                resp = self.session().request(method, self.base + path, timeout=30, **kwargs)
                if resp.status_code == expected:
                    return resp.json() if resp.content else None
                failure = f"{method} {path} -> {resp.status_code} {resp.text[:200]}"
                if resp.status_code != 503:
                    break
                with self.lock:
                    self.retried += 1
            except requests.RequestException as exc:
                failure = f"{method} {path} -> {exc!r}"
            time.sleep(0.2 * (attempt + 1))
        with self.lock:
            self.errors.append(failure)
        return None


def _parallel(workers, fn, items):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


def seed(base, users=200, posts=5000, comments=20000, likes=20000, workers=24, run_id=None):
    run_id = run_id or str(int(time.time()))
    client = Client(base)
    rng = random.Random(7)
    timings = {}

    started = time.perf_counter()

    def register(i):
        name = f"bench_{run_id}_{i}"[:32]
        body = client.call("POST", "/api/users/register/", 201, json={
            "username": name, "email": f"{name}@example.com", "password": "password1"})
        return body and {"id": body["id"], "token": body["token"]}
    accounts = [a for a in _parallel(workers, register, range(users)) if a]
    timings["users"] = time.perf_counter() - started

    def auth(i):
        return {"Authorization": "Bearer " + accounts[i % len(accounts)]["token"]}

    started = time.perf_counter()

    def create_post(i):
        form = {"title": (None, f"Bench post {i}"),
                "content": (None, f"Seeded through the API, post number {i}. " * 3)}
        body = client.call("POST", "/api/posts/", 201, headers=auth(i), files=form)
        return body and body["id"]
    post_ids = [p for p in _parallel(workers, create_post, range(posts)) if p]
    timings["posts"] = time.perf_counter() - started

    started = time.perf_counter()
    targets = [rng.choice(post_ids) for _ in range(comments)]

    def create_comment(i):
        return client.call("POST", "/api/comments/", 201, headers=auth(i * 7 + 3),
                           json={"post_id": targets[i], "content": f"Bench comment {i}"})
    made_comments = sum(1 for c in _parallel(workers, create_comment, range(comments)) if c)
    timings["comments"] = time.perf_counter() - started

    started = time.perf_counter()
    per_user = -(-likes // len(accounts))
    pairs = []
    for u in range(len(accounts)):
        for post_id in rng.sample(post_ids, min(per_user, len(post_ids))):
            pairs.append((u, post_id))
    pairs = pairs[:likes]

    def like(pair):
        u, post_id = pair
        body = client.call("POST", f"/api/posts/{post_id}/like/", 200, headers=auth(u))
        return body and body["liked"]
    made_likes = sum(1 for liked in _parallel(workers, like, pairs) if liked)
    timings["likes"] = time.perf_counter() - started

    return {
        "users": len(accounts), "posts": len(post_ids), "comments": made_comments,
        "likes": made_likes, "first_post": min(post_ids), "last_post": max(post_ids),
        "tokens": [a["token"] for a in accounts], "errors": client.errors[:20],
        "error_count": len(client.errors), "retried_503": client.retried,
        "seconds": {k: round(v, 1) for k, v in timings.items()},
    }

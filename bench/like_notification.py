"""Like-to-notification latency through the whole system, over the public HTTP API.

For each sample: the liker likes a fresh post of the owner (POST /api/posts/{id}/like/);
the clock starts before that request and stops when the owner's
GET /api/notifications/?limit=5 first shows the LIKE for that post. The path measured:
gateway -> posts (outbox row, NOTIFY) -> relay -> Kafka -> notifications consumer ->
PostgreSQL -> gateway. Optional background readers add light load (GET /api/posts/).

    .venv/bin/python -m bench.like_notification --base http://127.0.0.1:8000 --samples 100

Against a running stack (`imageboard up`, or your own instance with DB_PREFIX,
AMQP_URI vhost, GATEWAY_BIND, KAFKA_TOPIC_PREFIX, IMAGEBOARD_VAR exported first).
"""
import argparse
import statistics
import sys
import threading
import time
import uuid

import requests


def register(base, prefix):
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    resp = requests.post(f"{base}/api/users/register/", timeout=10, json={
        "username": name, "email": f"{name}@example.com", "password": "password1"})
    resp.raise_for_status()
    body = resp.json()
    return {"id": body["id"], "headers": {"Authorization": f"Bearer {body['token']}"}}


def create_post(base, user, title):
    resp = requests.post(f"{base}/api/posts/", headers=user["headers"], timeout=10,
                         files={"title": (None, title), "content": (None, "benchmark")})
    resp.raise_for_status()
    return resp.json()["id"]


def wait_for_like(session, base, owner, post_id, deadline):
    while time.monotonic() < deadline:
        rows = session.get(f"{base}/api/notifications/?limit=5", headers=owner["headers"], timeout=10).json()
        if any(n["type"] == "LIKE" and n["data"].get("post_id") == post_id for n in rows):
            return time.monotonic()
        time.sleep(0.01)
    return None


def background_reader(base, stop):
    session = requests.Session()
    while not stop.is_set():
        session.get(f"{base}/api/posts/?limit=20", timeout=10)
        time.sleep(0.05)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--readers", type=int, default=2, help="background GET /api/posts/ loops")
    parser.add_argument("--pause", type=float, default=0.1, help="seconds between samples")
    args = parser.parse_args()
    base = args.base.rstrip("/")

    owner, liker = register(base, "owner"), register(base, "liker")
    posts = [create_post(base, owner, f"Bench {i}") for i in range(args.samples)]
    stop = threading.Event()
    readers = [threading.Thread(target=background_reader, args=(base, stop), daemon=True)
               for _ in range(args.readers)]
    for reader in readers:
        reader.start()

    session, latencies, missing = requests.Session(), [], 0
    try:
        for post_id in posts:
            started = time.monotonic()
            resp = session.post(f"{base}/api/posts/{post_id}/like/", headers=liker["headers"], timeout=10)
            resp.raise_for_status()
            seen = wait_for_like(session, base, owner, post_id, started + 10)
            if seen is None:
                missing += 1
            else:
                latencies.append((seen - started) * 1000)
            time.sleep(args.pause)
    finally:
        stop.set()

    if not latencies:
        print("no like ever reached the owner's notifications", file=sys.stderr)
        return 1
    print(f"samples {len(latencies)} (missing after 10 s: {missing}), background readers {args.readers}")
    print(f"like -> visible in owner's list: p50 {statistics.median(latencies):.0f} ms, "
          f"p95 {percentile(latencies, 95):.0f} ms, max {max(latencies):.0f} ms, "
          f"mean {statistics.fmean(latencies):.0f} ms")
    return 0 if missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

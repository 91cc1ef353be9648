"""RSS and CPU of each process of one running stack (`imageboard up`), idle and under a
light open-loop load of the bench mix: the figures the Kubernetes resource requests and
limits come from (deploy/, docs/scaling.md "Resources").

    IMAGEBOARD_VAR=... .venv/bin/python -m bench.footprint http://127.0.0.1:18780 \
        --tokens var/bench-tokens.txt --last-post 300 [--rate 40] [--seconds 30]

Processes are the stack's own, from the pid files in IMAGEBOARD_VAR (with their children:
gunicorn workers), so other stacks on the machine are not counted. The load is light on
purpose (a shared machine): CPU per request, not capacity.
"""
import argparse
import json
import os
import random
import threading
import time

import requests

from imageboard_ops.util import read_pid

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
NAMES = ["users", "posts", "comments", "notifications", "analytics", "analytics-pipeline",
         "gateway"]


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def sample():
    """{process name: (cpu seconds, rss MiB)}; the gateway as master + each worker."""
    result = {}
    for name in NAMES:
        pid = read_pid(name)
        if not pid:
            continue
        pids = [(name, pid)] + [(f"{name} worker {i + 1}", c) for i, c in enumerate(children(pid))]
        for label, p in pids:
            try:
                with open(f"/proc/{p}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            result[label] = ((int(fields[11]) + int(fields[12])) / TICK,
                             int(fields[21]) * PAGE / 2**20)
    return result


def mix(base, tokens, last_post, rng):
    """One request of the bench mix (bench/wrk/ib_mix.lua, without the 1% multipart posts)."""
    r, post = rng.randrange(100), rng.randint(1, last_post)
    auth = {"Authorization": f"Bearer {rng.choice(tokens)}"}
    if r < 60:
        return "GET", f"{base}/api/posts/?page={rng.randint(1, 5)}", {}
    if r < 80:
        return "GET", f"{base}/api/posts/{post}/", {}
    if r < 90:
        return "GET", f"{base}/api/comments/?post_id={post}", {}
    if r < 95:
        return "POST", f"{base}/api/posts/{post}/like/", {"headers": auth}
    return "POST", f"{base}/api/comments/", {"headers": auth,
                                             "json": {"post_id": post, "content": "footprint"}}


def load(base, tokens, last_post, rate, seconds, threads=8):
    """Open loop: request i is due at start + i / rate, whoever is free sends it."""
    start, lock, counts = time.monotonic(), threading.Lock(), {"sent": 0, "errors": 0}
    total = int(rate * seconds)

    def worker(seed):
        rng, session = random.Random(seed), requests.Session()
        while True:
            with lock:
                i = counts["sent"]
                if i >= total:
                    return
                counts["sent"] += 1
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            method, url, kwargs = mix(base, tokens, last_post, rng)
            try:
                ok = session.request(method, url, timeout=10, **kwargs).status_code < 500
            except requests.RequestException:
                ok = False
            if not ok:
                with lock:
                    counts["errors"] += 1

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return counts["sent"], counts["errors"], time.monotonic() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--last-post", type=int, required=True)
    parser.add_argument("--rate", type=float, default=40)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    tokens = open(args.tokens).read().split()

    idle0 = sample()
    time.sleep(10)
    idle1 = sample()
    sent, errors, elapsed = load(args.base, tokens, args.last_post, args.rate, args.seconds)
    busy = sample()
    rows = {}
    for name, (cpu, rss) in busy.items():
        idle_cpu = (idle1[name][0] - idle0[name][0]) / 10 if name in idle0 and name in idle1 else None
        load_cpu = cpu - idle1.get(name, (cpu, 0))[0]
        rows[name] = {"rss_idle_mib": round(idle1.get(name, (0, 0))[1], 1),
                      "rss_load_mib": round(rss, 1),
                      "cpu_idle_pct": None if idle_cpu is None else round(idle_cpu * 100, 1),
                      "cpu_load_pct": round(load_cpu / elapsed * 100, 1),
                      "cpu_ms_per_request": round(load_cpu * 1000 / max(sent, 1), 3)}
    print(json.dumps({"rate": args.rate, "requests": sent, "errors": errors,
                      "seconds": round(elapsed, 1), "processes": rows}, indent=1))


if __name__ == "__main__":
    main()

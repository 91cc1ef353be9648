"""Propagation of a revocation through the access feed (imageboard/access): from the
acknowledged response of POST /api/users/logout/ to the moment each of two gateway
processes (their own gunicorn masters, one worker each) refuses the token.

    .venv/bin/python -m bench.access_feed [SAMPLES]     # default 200

It brings up its own instance of the system (databases, vhost, port: BENCH_INSTANCE,
default access_bench) on the running servers, starts the two gateways, and per sample:
logs in (a new token), checks both gateways accept it, logs out through the first, then
polls both with GET /health (the auth middleware runs there too, with no RPC) until each
answers 401 token_revoked. Prints p50/p90/p99/max per gateway and overall, in ms.
"""
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid

INSTANCE = os.environ.get("BENCH_INSTANCE", "access_bench")
PORT = int(os.environ.get("BENCH_PORT", "18190"))
VAR = os.path.join(tempfile.gettempdir(), f"imageboard-{INSTANCE}-var")
ENV = {
    "DB_PREFIX": f"imageboard_{INSTANCE}",
    "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/imageboard_{INSTANCE}",
    "GATEWAY_BIND": f"127.0.0.1:{PORT}",
    "STREAM_BIND": f"127.0.0.1:{int(PORT) + 1}",  # the stream process beside it
    "GATEWAY_WORKERS": "1",
    "KAFKA_TOPIC_PREFIX": f"{INSTANCE}-{uuid.uuid4().hex[:6]}-",
    "CLICKHOUSE_URL": f"clickhouse://default:@127.0.0.1:9000/imageboard_{INSTANCE}",
    "IMAGEBOARD_VAR": VAR,
    "MEDIA_ROOT": os.path.join(VAR, "media"),
    # Only what the measurement needs: the users service is the feed's source.
    "SERVICES": "[users]",
    "METRICS_PORT_BASE": "0",
    "LOG_LEVEL": "WARNING",
}


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(values):
    ms = [v * 1000 for v in values]
    return (f"n={len(ms)} p50={percentile(ms, 50):.1f} p90={percentile(ms, 90):.1f} "
            f"p99={percentile(ms, 99):.1f} max={max(ms):.1f} mean={statistics.mean(ms):.1f} ms")


def refused_after(url, token, acked, out, deadline=5.0):
    import requests

    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() - acked < deadline:
        resp = session.get(url + "/health", headers=headers, timeout=5)
        if resp.status_code == 401:
            out.append(time.monotonic() - acked)
            return
    out.append(float("inf"))


def measure(samples, first, second):
    import requests

    session = requests.Session()
    name = f"bench_{uuid.uuid4().hex[:8]}"
    body = {"username": name, "email": f"{name}@example.com", "password": "password1"}
    assert session.post(first.url + "/api/users/register/", json=body, timeout=10).status_code == 201
    results = {first.url: [], second.url: []}
    for _ in range(samples):
        token = session.post(first.url + "/api/users/login/", json=body, timeout=10).json()["token"]
        for gateway in (first, second):
            assert session.get(gateway.url + "/health", headers={"Authorization": f"Bearer {token}"},
                               timeout=5).status_code == 200
        resp = session.post(first.url + "/api/users/logout/",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
        acked = time.monotonic()
        assert resp.status_code == 204, resp.text
        threads = [threading.Thread(target=refused_after, args=(g.url, token, acked, results[g.url]))
                   for g in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return results


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    samples = int(argv[0]) if argv else 200
    for key, value in ENV.items():
        os.environ[key] = value
    from imageboard.config import database_url, load_config
    from imageboard.db import drop_database
    from imageboard_ops import infra, system
    from tests.extra_gateways import ExtraGateway

    config = load_config()
    infra.ensure(config)  # the servers are reused; this instance's vhost is made
    system.stop(config, keep_infra=True)
    for service in config["SERVICES"]:
        drop_database(database_url(config, service))
    system.start(config, with_infra=False)
    gateways = []
    try:
        gateways = [ExtraGateway().start(), ExtraGateway().start()]
        pids = [g.worker_pids() for g in gateways]
        print(f"gateway processes: {pids[0]} on {gateways[0].port}, {pids[1]} on {gateways[1].port}")
        results = measure(samples, *gateways)
        every = []
        for url, values in results.items():
            every += values
            print(f"{url}: {summary(values)}")
        print(f"both: {summary(every)}; over 1 s: {sum(v > 1.0 for v in every)}")
    finally:
        for gateway in gateways:
            gateway.stop()
        system.stop(config, keep_infra=True)


if __name__ == "__main__":
    main()

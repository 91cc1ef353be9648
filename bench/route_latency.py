"""Where a scenario's latency goes, per route and per RPC method: runs one wrk scenario
against a running stack and reads the gateway's and the services' own latency histograms
(Prometheus, imageboard/metrics.py) before and after it.

    .venv/bin/python -m bench.route_latency http://127.0.0.1:18950 bench/wrk/ib_mix.lua \
        [--duration 15] [--connections 32] [--metrics-base 19800]

Each row: requests, mean, and the share above 50 / 100 / 250 ms (bucket bounds). The
gateway's clock starts when falcon gets the request, so wrk's latency minus the gateway's
is time spent before and after the application: gunicorn's hand-over between threads,
the kernel, and waiting for a CPU. wrk's environment (BENCH_TOKENS, ...) is taken from
this process's; --metrics-base is the stack's METRICS_PORT_BASE (bench.run uses 19800).
"""
import argparse
import re
import sys
import urllib.request
from collections import defaultdict

from bench.wrkrun import run as run_wrk
from imageboard_ops.components import component

SAMPLE = re.compile(r"^imageboard_(http_request|rpc)_duration_seconds_(bucket|sum|count)"
                    r"\{(?P<labels>.*)\} (?P<value>\S+)$")
LE = re.compile(r',?le="([^"]*)"')
SHARES = ("0.05", "0.1", "0.25")


def scrape(urls):
    """{(source, labels, kind, le): value} of the latency histograms at `urls`."""
    samples = {}
    for source, url in urls.items():
        try:
            text = urllib.request.urlopen(url, timeout=3).read().decode()
        except OSError as exc:
            print(f"note: {source} metrics not read ({exc})", file=sys.stderr)
            continue
        for line in text.splitlines():
            match = SAMPLE.match(line)
            if match:
                le = LE.search(match["labels"])
                labels = LE.sub("", match["labels"]).strip(",")
                samples[(source, labels, match.group(2), le.group(1) if le else None)] = float(match["value"])
    return samples


def histograms(before, after):
    """{(source, labels): {"count", "sum", "buckets": {le: count}}} of what happened between."""
    result = defaultdict(lambda: {"count": 0.0, "sum": 0.0, "buckets": {}})
    for (source, labels, kind, le), value in after.items():
        delta = value - before.get((source, labels, kind, le), 0.0)
        entry = result[(source, labels)]
        if kind == "bucket":
            entry["buckets"][le] = delta
        else:
            entry[kind] = delta
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base")
    parser.add_argument("script")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--metrics-base", type=int, default=19800)
    args = parser.parse_args()

    urls = {"gateway": args.base.rstrip("/") + "/metrics"}
    for service in ("users", "posts", "comments", "notifications", "analytics"):
        urls[service] = f"http://127.0.0.1:{args.metrics_base + component(service).metrics_port_offset}/metrics"
    before = scrape(urls)
    result = run_wrk(args.base, args.script, args.connections, args.duration)
    after = scrape(urls)
    print(f"{args.script}: {result['rps']} req/s, p50 {result['p50']} ms, p99 {result['p99']} ms (wrk)")
    print(f"{'where':<10}{'route or method':<44}{'n':>7}{'mean ms':>9}"
          + "".join(f"{'>' + str(int(float(s) * 1000)) + 'ms':>9}" for s in SHARES))
    for (source, labels), h in sorted(histograms(before, after).items()):
        if h["count"] < 1:
            continue
        name = ", ".join(v for k, v in re.findall(r'(\w+)="([^"]*)"', labels) if k != "service")
        shares = "".join(f"{100 * (1 - h['buckets'].get(s, 0) / h['count']):>8.1f}%" for s in SHARES)
        print(f"{source:<10}{name:<44}{h['count']:>7.0f}{1000 * h['sum'] / h['count']:>9.1f}{shares}")


if __name__ == "__main__":
    main()

"""One wrk scenario and its result, and the machine's busy CPU time: shared by bench.run,
bench.cpu_split and bench.route_latency. The scenarios print a RESULT line
(bench/wrk/report.lua)."""
import os
import re
import subprocess

WRK = os.environ.get("WRK", "/usr/bin/wrk")
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULT_RE = re.compile(r"RESULT rps=(?P<rps>[\d.]+) p50_ms=(?P<p50>[\d.]+) p99_ms=(?P<p99>[\d.]+) "
                       r"requests=(?P<requests>\d+) errors=(?P<errors>\d+) non2xx=(?P<non2xx>\d+)")


def run(base, script, connections, duration, env=None):
    """{"rps", "p50", "p99", "requests", "errors", "non2xx"} of one wrk run against `base`;
    `env` is added to this process's environment (BENCH_TOKENS, ...)."""
    argv = [WRK, f"-t{min(4, connections)}", f"-c{connections}", f"-d{duration}s",
            "--timeout", "10s", "-s", script, base]
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})},
                          cwd=PROJECT_ROOT)
    match = RESULT_RE.search(proc.stdout)
    if not match:
        raise RuntimeError(f"wrk failed: {proc.stdout}\n{proc.stderr}")
    return {k: float(v) for k, v in match.groupdict().items()}


def busy_cpu_seconds():
    """CPU time the whole machine spent busy since boot (all cores), from /proc/stat."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait

"""Where the CPU of one request goes: runs one wrk scenario against a running stack and
divides the CPU time each process group used during it by the requests wrk completed.

    .venv/bin/python -m bench.cpu_split http://127.0.0.1:18950 bench/wrk/ib_mix.lua \
        [--duration 15] [--connections 32]

wrk's environment (BENCH_TOKENS, BENCH_FIRST_POST, ...) is taken from this process's.
Groups are found from /proc command lines, so processes of other stacks on the machine
are counted too: run it on an otherwise quiet machine.
"""
import argparse
import os
import re
import time

from bench.wrkrun import busy_cpu_seconds, run as run_wrk

TICK = os.sysconf("SC_CLK_TCK")


def group_of(cmdline, comm):
    if "gunicorn" in cmdline:
        return "gateway"
    match = re.search(r"services\.(\w+)", cmdline) or re.search(r"services/(\w+)", cmdline)
    if "nameko" in cmdline and match:
        return f"svc:{match.group(1)}"
    if "analytics_pipeline" in cmdline:
        return "pipeline"
    for name in ("tansu", "beam.smp", "postgres", "clickhouse", "wrk", "nginx"):
        if name in comm or name in cmdline.split(" ")[0]:
            return {"beam.smp": "rabbitmq"}.get(name, name)
    return None


def snapshot():
    """{pid: (group, cpu seconds)} of every process in a known group."""
    result = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        group = group_of(cmdline, comm)
        if group is None:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        result[pid] = (group, (int(fields[11]) + int(fields[12])) / TICK)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("script")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    before, sys_before, t0 = snapshot(), busy_cpu_seconds(), time.time()
    result = run_wrk(args.base, args.script, args.connections, args.duration)
    after, sys_after, elapsed = snapshot(), busy_cpu_seconds(), time.time() - t0
    requests = int(result["requests"])
    groups = {}
    for pid, (group, cpu) in after.items():
        groups[group] = groups.get(group, 0.0) + cpu - before.get(pid, (group, 0.0))[1]
    total = sys_after - sys_before
    print(f"{args.script}: {result['rps']} req/s, p50 {result['p50']} ms, p99 {result['p99']} ms, "
          f"{requests} requests in {elapsed:.1f} s; machine busy {total / elapsed * 100:.0f}% of one core")
    print(f"{'group':<16}{'% of a core':>12}{'CPU ms/request':>16}")
    for group, cpu in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"{group:<16}{cpu / elapsed * 100:>12.1f}{cpu * 1000 / requests:>16.3f}")
    accounted = sum(groups.values())
    print(f"{'(other)':<16}{(total - accounted) / elapsed * 100:>12.1f}"
          f"{(total - accounted) * 1000 / requests:>16.3f}")
    print(f"{'total':<16}{total / elapsed * 100:>12.1f}{total * 1000 / requests:>16.3f}")


if __name__ == "__main__":
    main()

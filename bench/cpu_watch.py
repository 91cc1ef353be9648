"""CPU per process of one bench instance over an interval (a capacity step), from /proc.

    watch = CpuWatch(config, postgres_data=..., nginx_pid_file=...).start()
    ...; shares = watch.stop(extra_cpu={"k6": seconds})  # {label: % of one core}, ...

The instance's own processes by their pid files (imageboard_ops.processes: the gateway's
master and each worker apart, each service, the pipeline), the private PostgreSQL cluster
(postmaster and every backend), nginx (master and workers), and what the caller measured
itself (k6's CPU from its rusage: it has exited when the step ends). The message broker,
Kafka (tansu) and ClickHouse are the machine's shared servers: counted whole by command
name, marked "(shared)", so on a busy machine they include other stacks' work.
"""
import os
import time

from bench.wrkrun import busy_cpu_seconds

TICK = os.sysconf("SC_CLK_TCK")
SHARED = {"beam.smp": "rabbitmq (shared)", "tansu": "kafka/tansu (shared)",
          "clickhouse": "clickhouse (shared)", "clickhouse-server": "clickhouse (shared)"}


def _stat(pid):
    """(ppid, pgrp, comm, cpu seconds) of one process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return None
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[2]), comm, (int(fields[11]) + int(fields[12])) / TICK


def _read_int(path):
    try:
        with open(path) as fh:
            return int(fh.readline().strip())
    except (OSError, ValueError):
        return None


class CpuWatch:
    def __init__(self, config, postgres_data=None, nginx_pid_file=None):
        self.config = config
        self.postgres_data = postgres_data
        self.nginx_pid_file = nginx_pid_file
        self.before = None

    def labelled(self):
        """{pid: (label, cpu seconds)} of every process watched, now."""
        from imageboard_ops import processes
        from imageboard_ops.util import read_pid
        table = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                st = _stat(int(entry))
                if st:
                    table[int(entry)] = st
        leaders = {}
        for spec in processes.app_processes(self.config):
            pid = read_pid(spec.name)
            if pid:
                leaders[pid] = spec.name
        postmaster = _read_int(os.path.join(self.postgres_data, "postmaster.pid")) \
            if self.postgres_data else None
        nginx = _read_int(self.nginx_pid_file) if self.nginx_pid_file else None
        found, workers = {}, {}
        for pid, (ppid, pgrp, comm, cpu) in sorted(table.items()):
            if pid in leaders:
                label = leaders[pid]
            elif pgrp in leaders:  # gunicorn's workers, a service's children
                n = workers[pgrp] = workers.get(pgrp, -1) + 1
                label = f"{leaders[pgrp]} worker {n}"
            elif postmaster and postmaster in (pid, ppid):
                label = "postgres (private, all backends)"
            elif nginx and (pid == nginx or ppid == nginx):
                label = "nginx"
            elif comm in SHARED:
                label = SHARED[comm]
            else:
                continue
            found[pid] = (label, cpu)
        return found

    def start(self):
        self.before = (self.labelled(), busy_cpu_seconds(), time.monotonic())
        return self

    def stop(self, extra_cpu=None):
        """{label: % of one core} over the interval since start(), highest first, plus
        "machine busy (all processes)" and "elapsed s"; extra_cpu: {label: CPU seconds}
        measured by the caller."""
        before, busy0, t0 = self.before
        after, busy1, elapsed = self.labelled(), busy_cpu_seconds(), time.monotonic() - t0
        groups = {}
        for pid, (label, cpu) in after.items():
            was = before.get(pid)
            groups[label] = groups.get(label, 0.0) + cpu - (was[1] if was else 0.0)
        groups.update(extra_cpu or {})
        shares = {label: round(cpu / elapsed * 100, 1)
                  for label, cpu in sorted(groups.items(), key=lambda kv: -kv[1])}
        shares["machine busy (all processes)"] = round((busy1 - busy0) / elapsed * 100, 1)
        shares["elapsed s"] = round(elapsed, 1)
        return shares

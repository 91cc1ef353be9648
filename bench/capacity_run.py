"""Runs the capacity search (bench/capacity.py) against one target with k6: a warm-up at the
start rate (not judged), then one k6 constant-arrival-rate run of the mix (bench/k6/mix.js)
per step, the CPU per process recorded during each (bench/cpu_watch.py). Used by bench.run.
"""
import json
import os
import re
import subprocess
import time
import uuid
from dataclasses import dataclass

from bench.capacity import Limits, Search, judge
from bench.mix import K6, K6_SCRIPT, PROJECT_ROOT, SHARES, k6_rate


@dataclass(frozen=True)
class Options:
    start: int = 100
    step: int = 100
    max_rate: int = 2000
    resolution: int = 25
    step_seconds: int = 30
    warmup_seconds: int = 20
    pause_seconds: int = 5   # between steps: the previous step's tail (outbox, consumers)
    max_steps: int = 20
    limits: Limits = Limits()


def run_k6(workdir, tag, rate, seconds, env):
    """Starts one k6 run of the mix; returns (Popen, its summary file). k6's REST API is off
    (several k6 processes on one machine would fight over its port); the request log too."""
    summary = os.path.join(workdir, f"k6-{tag}-summary.json")
    log = os.path.join(workdir, f"k6-{tag}.log")
    run_env = {**os.environ, "RATE": str(rate), "DURATION": str(seconds), "TAG": tag,
               "SUMMARY": summary, "REQUEST_LOG": "0", **env}
    argv = [K6, "run", "--quiet", "--no-usage-report", "--address", "", K6_SCRIPT]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=run_env, cwd=PROJECT_ROOT, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return proc, summary


def wait_k6(proc, seconds):
    """(exit code, CPU seconds k6 used): reaped with wait4, whose rusage is the only record
    of an exited process's CPU (/proc has forgotten it)."""
    deadline = time.monotonic() + seconds + 60  # + gracefulStop and the summary
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == 0 and time.monotonic() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_utime + usage.ru_stime
        time.sleep(0.1)


def capacity(label, workdir, k6_env, options, cpu_watch=None, log=print):
    """{"target", "capacity", "ceiling_reached", "steps": [...], "at_capacity": step} for one
    target (k6_env["BASE"]). cpu_watch() -> a started CpuWatch, or None."""
    os.makedirs(workdir, exist_ok=True)
    search = Search(start=options.start, step=options.step, max_rate=options.max_rate,
                    resolution=options.resolution, max_steps=options.max_steps)
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    like_offset = 0

    def one(tag, rate, seconds):
        nonlocal like_offset
        env = dict(k6_env, LIKE_OFFSET=str(like_offset), TAG=f"{tag}-{uuid.uuid4().hex[:6]}")
        like_offset += k6_rate(rate, SHARES["like"]) * (seconds // 10 + 2)
        proc, summary_file = run_k6(workdir, tag, rate, seconds, env)
        watch = cpu_watch() if cpu_watch else None
        rc, k6_cpu = wait_k6(proc, seconds)
        cpu = watch.stop(extra_cpu={"k6 (load generator)": k6_cpu}) if watch else None
        try:
            with open(summary_file) as fh:
                summary = json.load(fh)
        except (OSError, ValueError):
            summary = {}
        return summary, rc, cpu

    if options.warmup_seconds > 0:
        log(f"[{label}] warm-up {options.warmup_seconds} s at {options.start} req/s")
        one(f"{slug}-warmup", options.start, options.warmup_seconds)
        time.sleep(options.pause_seconds)
    steps = []
    rate = search.next_rate()
    while rate is not None:
        summary, rc, cpu = one(f"{slug}-{rate}", rate, options.step_seconds)
        step = judge(summary, rate, options.step_seconds, options.limits)
        if rc not in (0, None) and not summary:
            step["passed"] = False
            step["reasons"].append(f"k6 exited {rc} without a summary")
        step["k6_exit"], step["cpu"] = rc, cpu
        steps.append(step)
        search.record(rate, step["passed"])
        log(f"[{label}] {rate} req/s: {'pass' if step['passed'] else 'FAIL'} "
            f"p50 {step['p50']} p99 {step['p99']} ms, errors {step['error_rate']}, "
            f"dropped {step['dropped']} {'; '.join(step['reasons'])}")
        time.sleep(options.pause_seconds)
        rate = search.next_rate()
    at = next((s for s in steps if s["rate"] == search.capacity and s["passed"]), None)
    return {"target": label, "capacity": search.capacity,
            "ceiling_reached": search.ceiling_reached(), "steps": steps, "at_capacity": at}

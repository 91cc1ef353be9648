"""The capacity search of `make bench`, without I/O: judging one k6 step from its summary
(handleSummary's JSON, bench/k6/mix.js) and choosing the next rate. bench/capacity_run.py
runs the steps; tests/unit/test_bench_capacity.py feeds this module canned summaries.

Capacity = the highest rate (requests/s offered, open loop) at which a step passes: p99
<= the bound, < 1% of the requests failed and < 1% of the iterations dropped (k6 had no VU
free to start them: the server fell behind). The search steps up from `start` by `step`
until a step fails (or `max_rate` passes), then bisects between the last pass and the first
fail until they are `resolution` apart. If the very first step fails, the last pass is
taken as 0 and the bisection goes down, stopping below `min_rate`.
"""
from dataclasses import dataclass, field

from bench.mix import ROUTES, k6_total_rate


@dataclass(frozen=True)
class Limits:
    p99_ms: float = 100.0
    max_error_rate: float = 0.01    # a step passes below this share of failed requests
    max_dropped_rate: float = 0.01  # ... and below this share of dropped iterations


def _metric(summary, name):
    return summary.get("metrics", {}).get(name, {}).get("values", {})


def judge(summary, rate, seconds, limits=Limits()):
    """One step's figures and verdict from a k6 summary of the mix at nominal `rate` for
    `seconds`: requests, achieved rps, error rate, dropped iterations, p50/p99 overall and
    per route (http_req_duration{route:...}), and `passed` with the `reasons` it failed."""
    offered = k6_total_rate(rate) * seconds
    reqs = _metric(summary, "http_reqs")
    requests = int(reqs.get("count", 0))
    duration = _metric(summary, "http_req_duration")
    error_rate = _metric(summary, "http_req_failed").get("rate")
    dropped = int(_metric(summary, "dropped_iterations").get("count", 0))  # absent: none
    step = {
        "rate": rate, "offered_rps": k6_total_rate(rate), "seconds": seconds,
        "requests": requests, "rps": round(reqs.get("rate", 0.0), 1),
        "error_rate": error_rate, "dropped": dropped,
        "dropped_rate": dropped / offered if offered else None,
        "p50": duration.get("p(50)"), "p99": duration.get("p(99)"),
        "routes": {},
    }
    for route in ROUTES:
        d = _metric(summary, f"http_req_duration{{route:{route}}}")
        failed = _metric(summary, f"http_req_failed{{route:{route}}}")  # passes = failures
        if d:
            step["routes"][route] = {
                "requests": failed.get("passes", 0) + failed.get("fails", 0),
                "p50": d.get("p(50)"), "p99": d.get("p(99)"), "error_rate": failed.get("rate")}
    reasons = []
    if requests == 0 or step["p99"] is None or error_rate is None:
        reasons.append("no requests")
    else:
        if step["p99"] > limits.p99_ms:
            reasons.append(f"p99 {step['p99']:.1f} ms > {limits.p99_ms:g}")
        if error_rate >= limits.max_error_rate:
            reasons.append(f"errors {error_rate:.2%} >= {limits.max_error_rate:.0%}")
    if offered and dropped >= limits.max_dropped_rate * offered:
        reasons.append(f"dropped {dropped} >= {limits.max_dropped_rate:.0%} of {offered:.0f}")
    step["passed"] = not reasons
    step["reasons"] = reasons
    return step


@dataclass
class Search:
    """Step up, then bisect. `next_rate()` is the rate to run next (None: done);
    `record(rate, passed)` gives it the verdict; `capacity` is the best rate that passed."""
    start: int = 100
    step: int = 100
    max_rate: int = 2000
    resolution: int = 25
    min_rate: int = 10
    max_steps: int = 20
    passed: int | None = None   # the highest rate that passed
    failed: int | None = None   # the lowest rate that failed
    tried: list = field(default_factory=list)

    @property
    def capacity(self):
        return self.passed

    def record(self, rate, passed):
        self.tried.append((rate, passed))
        if passed:
            self.passed = rate if self.passed is None else max(self.passed, rate)
        else:
            self.failed = rate if self.failed is None else min(self.failed, rate)

    def next_rate(self):
        if len(self.tried) >= self.max_steps:
            return None
        if not self.tried:
            return self.start
        if self.failed is None:  # still stepping up
            if self.passed >= self.max_rate:
                return None  # capacity >= max_rate: the search's ceiling, say so
            return min(self.passed + self.step, self.max_rate)
        low = self.passed or 0
        if self.failed - low <= self.resolution:
            return None
        mid = (low + self.failed) // 2
        rounded = round(mid / self.resolution) * self.resolution  # readable rates
        if low < rounded < self.failed:
            mid = rounded
        if mid <= low or mid < self.min_rate:
            return None
        return mid

    def ceiling_reached(self):
        """The capacity is at least max_rate: no rate failed up to it."""
        return self.failed is None and self.passed is not None and self.passed >= self.max_rate

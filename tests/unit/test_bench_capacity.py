"""The capacity search of `make bench` (bench/capacity.py): a step's verdict from a k6
summary, and which rate it runs next. Canned summaries, no k6, no clock."""
import json
import os

import pytest

from bench.capacity import Limits, Search, judge
from bench.mix import k6_total_rate

HERE = os.path.dirname(os.path.abspath(__file__))
# A real k6 summary of bench/k6/mix.js (handleSummary's JSON, trimmed to the metrics the
# search reads): 10 req/s for 5 s against a bench instance, every request answered.
REAL = os.path.join(HERE, "data", "k6_mix_summary.json")


def summary(rate=100, seconds=30, p99=50.0, p50=10.0, failed=0.0, dropped=0, routes=None):
    """A k6 summary of the mix in handleSummary's shape (metrics -> name -> values)."""
    requests = int(k6_total_rate(rate) * seconds) - dropped
    metrics = {
        "http_reqs": {"type": "counter", "contains": "default",
                      "values": {"count": requests, "rate": requests / seconds}},
        "http_req_duration": {"type": "trend", "contains": "time",
                              "values": {"avg": p50, "p(50)": p50, "p(99)": p99, "max": p99}},
        "http_req_failed": {"type": "rate", "contains": "default",
                            "values": {"rate": failed, "passes": round(failed * requests),
                                       "fails": requests - round(failed * requests)}},
    }
    if dropped:
        metrics["dropped_iterations"] = {"type": "counter", "contains": "default",
                                         "values": {"count": dropped, "rate": dropped / seconds}}
    for route, (r_p50, r_p99, n) in (routes or {}).items():
        metrics[f"http_req_duration{{route:{route}}}"] = {
            "type": "trend", "contains": "time",
            "values": {"avg": r_p50, "p(50)": r_p50, "p(99)": r_p99, "max": r_p99}}
        metrics[f"http_req_failed{{route:{route}}}"] = {
            "type": "rate", "contains": "default", "values": {"rate": 0.0, "passes": 0, "fails": n}}
    return {"metrics": metrics}


def test_a_step_within_every_bound_passes_with_its_per_route_figures():
    step = judge(summary(rate=300, p99=99.9, routes={"comment": (40.0, 98.0, 360)}), 300, 30)
    assert step["passed"] is True
    assert step["reasons"] == []
    assert step["p99"] == 99.9
    assert step["routes"]["comment"] == {"requests": 360, "p50": 40.0, "p99": 98.0,
                                         "error_rate": 0.0}


@pytest.mark.parametrize("kwargs, reason", [
    ({"p99": 100.1}, "p99 100.1 ms > 100"),
    ({"failed": 0.01}, "errors 1.00% >= 1%"),
    # 1% of the 9,000 iterations offered at 300 req/s for 30 s.
    ({"dropped": 90}, "dropped 90 >= 1% of 9000"),
])
def test_a_step_fails_on_each_bound_alone(kwargs, reason):
    step = judge(summary(rate=300, **kwargs), 300, 30)
    assert step["passed"] is False
    assert step["reasons"] == [reason]


def test_just_under_the_error_and_dropped_bounds_passes():
    step = judge(summary(rate=300, failed=0.0099, dropped=89), 300, 30)
    assert step["passed"] is True


def test_an_empty_summary_fails():
    step = judge({}, 300, 30)
    assert step["passed"] is False
    assert step["reasons"] == ["no requests"]


def test_the_p99_bound_is_an_option():
    step = judge(summary(rate=300, p99=150.0), 300, 30, Limits(p99_ms=200.0))
    assert step["passed"] is True


def test_a_real_k6_summary_of_the_mix_is_read():
    with open(REAL) as fh:
        real = json.load(fh)
    step = judge(real, 10, 5)
    assert step["requests"] == real["metrics"]["http_reqs"]["values"]["count"]
    assert step["p99"] == real["metrics"]["http_req_duration"]["values"]["p(99)"]
    assert set(step["routes"]) == {"list", "detail", "comments", "like", "comment", "post"}
    assert sum(r["requests"] for r in step["routes"].values()) == step["requests"]
    assert step["passed"] is True


def drive(search, capacity_of):
    """Runs the search against a server that passes every rate <= capacity_of."""
    rates = []
    rate = search.next_rate()
    while rate is not None:
        rates.append(rate)
        search.record(rate, rate <= capacity_of)
        rate = search.next_rate()
    return rates


def test_steps_up_then_bisects_between_the_last_pass_and_the_first_fail():
    search = Search(start=100, step=100, max_rate=2000, resolution=25)
    assert drive(search, capacity_of=330) == [100, 200, 300, 400, 350, 325]
    assert search.capacity == 325
    assert search.ceiling_reached() is False


def test_stops_when_pass_and_fail_are_the_resolution_apart():
    search = Search(start=100, step=100, resolution=25)
    for rate, passed in ((100, True), (200, True), (300, False), (250, True), (275, False)):
        assert search.next_rate() == rate
        search.record(rate, passed)
    assert search.next_rate() is None
    assert search.capacity == 250


def test_a_first_step_that_fails_bisects_down_from_it():
    search = Search(start=400, step=100, resolution=25, min_rate=10)
    assert drive(search, capacity_of=120) == [400, 200, 100, 150, 125]
    assert search.capacity == 100


def test_nothing_passes_down_to_the_floor():
    search = Search(start=100, step=100, resolution=25, min_rate=10)
    assert drive(search, capacity_of=0) == [100, 50, 25]
    assert search.capacity is None


def test_the_ceiling_ends_the_search_and_says_so():
    search = Search(start=100, step=100, max_rate=250, resolution=25)
    assert drive(search, capacity_of=10_000) == [100, 200, 250]
    assert search.capacity == 250
    assert search.ceiling_reached() is True


def test_max_steps_bounds_the_search():
    search = Search(start=10, step=10, max_rate=10_000, resolution=1, max_steps=5)
    assert drive(search, capacity_of=10_000) == [10, 20, 30, 40, 50]


def test_the_report_tables_show_a_capacity_and_a_target_where_none_passed():
    from bench.report import tables
    passed = judge(summary(rate=300, routes={"list": (5.0, 40.0, 5400)}), 300, 30)
    passed["cpu"] = {"posts": 31.5, "machine busy (all processes)": 190.0, "elapsed s": 30.0}
    failed = judge(summary(rate=400, p99=582.0), 400, 30)
    report = {"limits": {"p99_ms": 100.0}, "wrk": {}, "rpc_floor": [], "capacity": {
        "direct": {"target": "direct", "capacity": 300, "ceiling_reached": False,
                   "steps": [passed, failed], "at_capacity": passed},
        "nginx": {"target": "nginx", "capacity": None, "ceiling_reached": False,
                  "steps": [failed], "at_capacity": None}}}
    text = tables(report)
    assert "| direct | **300** |" in text
    assert "| nginx | **none passed** |" in text
    assert "| list | 60% | 5.0 | 40.0 | - | - |" in text
    assert "| posts | 31.5 | - |" in text
    assert "| direct | 400 |" in text and "p99 582.0 ms > 100 |" in text


def test_the_bulk_seed_plan_keeps_every_counter_and_never_repeats_a_like():
    from bench.seed_bulk import plan
    accounts = [{"id": i, "username": f"u{i}"} for i in range(7)]
    posts, targets, pairs = plan(accounts, posts=50, comments=300, likes=200)
    assert len(posts) == 50 and len(targets) == 300 and len(pairs) == 200
    assert len(set(pairs)) == 200
    assert sum(nl for _, nl, _ in posts) == 200
    assert [nc for _, _, nc in posts] == [sum(1 for p, _ in targets if p == i) for i in range(50)]

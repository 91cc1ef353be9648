"""A real Prometheus (Debian's /usr/bin/prometheus) scrapes the running test stack with
monitoring/prometheus/prometheus.yml (targets swapped for this instance's ports) and its
alert rules; every Grafana panel's and every alert's expression must be valid, and the core
panels must show data."""
import json
import os
import shutil
import subprocess
import time

import pytest
import requests
import yaml

from imageboard import PROJECT_ROOT
from imageboard_ops.monitoring import local_prometheus_config
from imageboard_ops.util import wait_for
from tests.ports import free_port
from tests.stack import bearer

PROMETHEUS = "/usr/bin/prometheus"
MONITORING = os.path.join(PROJECT_ROOT, "monitoring")
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not os.path.exists(PROMETHEUS), reason="prometheus not installed")]

# Panels that must show data as soon as the system has served a few requests.
CORE_PANELS = {
    "Gateway instances up", "Requests per second", "Requests by route", "Responses by status",
    "Latency p50 / p95 / p99", "p99 latency by route", "Requests in flight",
    "Service instances up", "RPC calls by method", "RPC p95 latency by method",
    "Domain errors (4xx answers)", "Workers busy / max", "Database pool",
    "Open reports", "Oldest open report age",  # the moderation service's timer, from its start
}
# Panels that must show data when the stack runs that part (outbox relays, the pipeline).
PART_PANELS = {
    "outbox": {"Outbox pending events", "Outbox published / errors"},
    "pipeline": {"Pipeline up", "Consumed / inserted per second", "Batch latency p50 / p95",
                 "Batch size p50"},
}
GRAFANA_VARS = {"$__rate_interval": "1m", "$service": ".*"}


def dashboard_panels():
    for name in ("api", "services", "pipeline"):
        with open(os.path.join(MONITORING, "grafana", "dashboards", f"{name}.json")) as fh:
            board = json.load(fh)
        for panel in board["panels"]:
            for target in panel["targets"]:
                expr = target["expr"]
                for var, value in GRAFANA_VARS.items():
                    expr = expr.replace(var, value)
                yield f"{name}: {panel['title']}", panel["title"], expr


def alert_rules():
    with open(os.path.join(MONITORING, "prometheus", "alerts.yml")) as fh:
        for group in yaml.safe_load(fh)["groups"]:
            for rule in group["rules"]:
                yield f"alert: {rule['alert']}", rule["alert"], rule["expr"]


@pytest.fixture
def prometheus(tmp_path, config, stack):
    port = free_port()
    conf = tmp_path / "prometheus.yml"
    # The shipped prometheus.yml, its DNS discovery swapped for this stack's ports.
    conf.write_text(yaml.safe_dump(local_prometheus_config(config, f"127.0.0.1:{port}",
                                                           scrape_interval="1s")))
    shutil.copy(os.path.join(MONITORING, "prometheus", "alerts.yml"), tmp_path / "alerts.yml")
    log = open(tmp_path / "prometheus.log", "wb")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={conf}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(base), 30, what="prometheus /-/ready")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def _ready(base):
    try:
        return requests.get(base + "/-/ready", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def query(base, expr):
    resp = requests.get(base + "/api/v1/query", params={"query": expr}, timeout=10)
    return resp.json()


def has_data(base, expr):
    result = query(base, expr)
    return result["status"] == "success" and any(
        r["value"][1] not in ("NaN",) for r in result["data"]["result"])


def make_traffic(api, register):
    user = register("mon")
    api("POST", "/api/users/login/", json={"username": user["username"], "password": "password1"})
    api("GET", f"/api/users/profile/{user['id']}/", headers=bearer(user))
    api("GET", "/api/users/profile/999999999/")  # a domain error (404)
    api("GET", "/no/such/route")


def test_every_dashboard_and_alert_expression_is_valid_and_core_panels_have_data(
        prometheus, api, register, config):
    # rate() needs scrapes before and after the traffic: wait for every target's first scrape.
    expected_up = 1 + len(config["SERVICES"])
    wait_for(lambda: has_data(prometheus, f'count(up{{job=~"gateway|services"}} == 1) == {expected_up}'),
             30, what="the first scrape of the gateway and every service")
    for _ in range(3):
        make_traffic(api, register)
        time.sleep(1.2)
    try:
        wait_for(lambda: has_data(prometheus, 'sum(rate(imageboard_rpc_requests_total[1m])) > 0')
                 and has_data(prometheus, 'sum(rate(imageboard_http_requests_total[1m])) > 0'),
                 30, what="traffic to show up in Prometheus")
    except TimeoutError:
        targets = requests.get(prometheus + "/api/v1/targets", timeout=10).json()["data"]
        pytest.fail("no traffic in Prometheus; targets: " + json.dumps(
            [(t["scrapeUrl"], t["health"], t["lastError"]) for t in targets["activeTargets"]]))

    up = {(r["metric"]["job"], r["metric"].get("component", "")): r["value"][1]
          for r in query(prometheus, "up")["data"]["result"]}
    print("\ntargets up:", sorted(up.items()))
    assert up[("gateway", "")] == "1"
    for service in config["SERVICES"]:
        assert up[("services", service)] == "1", service

    running = set()
    if has_data(prometheus, "imageboard_outbox_pending_events"):
        running.add("outbox")
    if up.get(("pipeline", "")) == "1":
        running.add("pipeline")
    must_have_data = set(CORE_PANELS)
    for part in running:
        must_have_data |= PART_PANELS[part]

    failures, lines = [], []
    for label, title, expr in list(dashboard_panels()) + list(alert_rules()):
        result = query(prometheus, expr)
        ok = result["status"] == "success"
        series = len(result["data"]["result"]) if ok else 0
        lines.append(f"{'ok ' if ok else 'ERR'} {series:3d} series  {label}")
        if not ok:
            failures.append(f"{label}: {result.get('error')}")
        elif title in must_have_data and not has_data(prometheus, expr):
            failures.append(f"{label}: no data for {expr}")
    print("\n".join(lines))
    print(f"parts running beside the core: {sorted(running) or 'none'}")
    assert not failures, "\n".join(failures)

    # Prometheus itself loaded and evaluated every alert rule without error.
    def rules_evaluated():
        groups = requests.get(prometheus + "/api/v1/rules", timeout=10).json()["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        return rules if rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules) else None
    wait_for(rules_evaluated, 15, what="every rule to be evaluated")
    rules = rules_evaluated()
    assert len(rules) == len(list(alert_rules()))
    assert all(rule["health"] == "ok" for rule in rules), [r for r in rules if r["health"] != "ok"]

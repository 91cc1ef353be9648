"""Static checks of monitoring/: promtool on the Prometheus config and alert rules (and the
rules' own unit tests), Grafana provisioning and dashboards consistent and up to date."""
import importlib.util
import json
import os
import shutil
import subprocess

import pytest
import yaml

from imageboard import PROJECT_ROOT

MONITORING = os.path.join(PROJECT_ROOT, "monitoring")
PROMETHEUS_DIR = os.path.join(MONITORING, "prometheus")
GRAFANA_DIR = os.path.join(MONITORING, "grafana")
promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")


def run_promtool(*args):
    proc = subprocess.run(["promtool", *args], cwd=PROMETHEUS_DIR, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    print(proc.stdout)
    return proc


@promtool
def test_promtool_checks_the_prometheus_config_and_its_rules():
    proc = run_promtool("check", "config", "prometheus.yml")
    assert proc.returncode == 0 and "SUCCESS: prometheus.yml is valid" in proc.stdout


@promtool
def test_promtool_checks_the_alert_rules():
    proc = run_promtool("check", "rules", "alerts.yml")
    assert proc.returncode == 0 and "SUCCESS" in proc.stdout


@promtool
def test_alert_rules_fire_in_their_promtool_unit_tests():
    proc = run_promtool("test", "rules", "alerts_test.yml")
    assert proc.returncode == 0 and "SUCCESS" in proc.stdout


def test_every_alert_has_a_severity_and_a_summary():
    with open(os.path.join(PROMETHEUS_DIR, "alerts.yml")) as fh:
        rules = [r for g in yaml.safe_load(fh)["groups"] for r in g["rules"]]
    assert len(rules) >= 10
    for rule in rules:
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def _generator():
    spec = importlib.util.spec_from_file_location("grafana_generate",
                                                  os.path.join(GRAFANA_DIR, "generate.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_dashboards_match_their_generator():
    for name, text in _generator().render_all().items():
        with open(os.path.join(GRAFANA_DIR, "dashboards", f"{name}.json")) as fh:
            assert fh.read() == text, f"run python monitoring/grafana/generate.py ({name}.json)"


def test_dashboards_use_the_provisioned_datasource_and_unique_ids():
    with open(os.path.join(GRAFANA_DIR, "provisioning", "datasources", "prometheus.yml")) as fh:
        uid = yaml.safe_load(fh)["datasources"][0]["uid"]
    uids = set()
    for name in ("api", "services", "pipeline"):
        with open(os.path.join(GRAFANA_DIR, "dashboards", f"{name}.json")) as fh:
            board = json.load(fh)
        assert board["uid"] not in uids
        uids.add(board["uid"])
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == uid
            assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"])
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24


@promtool
def test_the_local_variant_for_a_plain_host_is_valid_too(tmp_path, config):
    from imageboard_ops.monitoring import local_prometheus_config

    local = local_prometheus_config(config)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(local))
    shutil.copy(os.path.join(PROMETHEUS_DIR, "alerts.yml"), tmp_path / "alerts.yml")
    proc = subprocess.run(["promtool", "check", "config", "prometheus.yml"], cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout
    services = next(j for j in local["scrape_configs"] if j["job_name"] == "services")
    assert [c["labels"]["component"] for c in services["static_configs"]] == list(config["SERVICES"])

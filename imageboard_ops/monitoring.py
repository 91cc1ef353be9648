"""Prometheus without Docker: monitoring/prometheus/prometheus.yml (written for compose,
where DNS finds every replica) turned into static targets for the processes of one
machine, with the same job names, labels and alert rules. Used by the test suite; an
operator on a plain host runs:

    .venv/bin/python -m imageboard_ops.monitoring > /etc/prometheus/prometheus.yml
    cp monitoring/prometheus/alerts.yml /etc/prometheus/
"""
import os
import sys

import yaml

from imageboard import PROJECT_ROOT
from imageboard.config import load_config
from analytics_pipeline import METRICS_PORT_OFFSET
from imageboard.metrics import metrics_host, metrics_port
from imageboard_ops.components import components
from imageboard_ops.system import gateway_url, stream_url

PROMETHEUS_YML = os.path.join(PROJECT_ROOT, "monitoring", "prometheus", "prometheus.yml")


def local_prometheus_config(config, prometheus_address="127.0.0.1:9090", scrape_interval=None):
    """The shipped prometheus.yml with each job's discovery replaced by this machine's ports
    (the gateway's GATEWAY_BIND, every service's and the pipeline's metrics port)."""
    with open(PROMETHEUS_YML) as fh:
        prom = yaml.safe_load(fh)
    if scrape_interval:
        prom["global"].update(scrape_interval=scrape_interval, evaluation_interval=scrape_interval,
                              scrape_timeout=scrape_interval)
    host = metrics_host(config)
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    targets = {
        "gateway": [{"targets": [gateway_url(config).split("://", 1)[1]]}],
        "services": [{"targets": [f"{host}:{metrics_port(config, c.metrics_port_offset)}"],
                      "labels": {"component": c.name}} for c in components(config)],
        "pipeline": [{"targets": [f"{host}:{metrics_port(config, METRICS_PORT_OFFSET)}"]}],
        "stream": [{"targets": [stream_url(config).split("://", 1)[1]]}],
        "prometheus": [{"targets": [prometheus_address]}],
    }
    jobs = {job["job_name"] for job in prom["scrape_configs"]}
    missing = set(targets) - jobs
    if missing:
        raise ValueError(f"{PROMETHEUS_YML} has no job {sorted(missing)}")
    for job in prom["scrape_configs"]:
        if job["job_name"] in targets:
            job.pop("dns_sd_configs", None)
            job.pop("relabel_configs", None)
            job["static_configs"] = targets[job["job_name"]]
    return prom


if __name__ == "__main__":
    sys.stdout.write(yaml.safe_dump(local_prometheus_config(load_config()), sort_keys=False))

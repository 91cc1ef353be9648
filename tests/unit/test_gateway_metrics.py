"""The gateway's Prometheus middleware and /metrics, with a fake RPC client; and the
multiprocess merge gunicorn relies on."""
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

from gateway.rpc import ServiceTimeout
from imageboard import PROJECT_ROOT


def samples(client):
    resp = client.simulate_get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def count(found, route, method, status):
    key = ("imageboard_http_requests_total",
           tuple(sorted({"route": route, "method": method, "status": status}.items())))
    return found.get(key, 0.0)


def test_requests_are_counted_by_route_template_method_and_status(client, rpc):
    route = "/api/users/profile/{user_id}"
    before = samples(client)
    rpc.answers[("users", "get_profile")] = ServiceTimeout("slow")
    for user_id in (1, 2, 3):  # three ids, one series: never the raw path
        assert client.simulate_get(f"/api/users/profile/{user_id}/").status_code == 504
    assert client.simulate_get("/no/such/thing").status_code == 404
    after = samples(client)

    assert count(after, route, "GET", "504") - count(before, route, "GET", "504") == 3
    assert count(after, "unmatched", "GET", "404") - count(before, "unmatched", "GET", "404") == 1
    assert not any("/api/users/profile/1" in str(key) for key in after)
    hist = ("imageboard_http_request_duration_seconds_count",
            tuple(sorted({"route": route, "method": "GET"}.items())))
    assert after[hist] - before.get(hist, 0) == 3
    # Only the /metrics request itself is in flight while it renders.
    assert after[("imageboard_http_requests_in_flight", ())] == 1


MERGE_SCRIPT = r"""
import os, sys
os.environ["PROMETHEUS_MULTIPROC_DIR"] = sys.argv[1]
from imageboard import metrics
if sys.argv[2] == "record":
    metrics.HTTP_REQUESTS.labels("/health", "GET", "200").inc()
    metrics.HTTP_IN_FLIGHT.inc()
else:
    from prometheus_client import generate_latest
    print(generate_latest(metrics.gateway_registry(sys.argv[1])).decode())
"""


def test_metrics_of_several_gunicorn_workers_are_merged(tmp_path):
    """What gunicorn does: separate processes write, any one of them renders the sum."""
    def run(mode):
        return subprocess.run([sys.executable, "-c", MERGE_SCRIPT, str(tmp_path), mode],
                              cwd=PROJECT_ROOT, check=True, stdout=subprocess.PIPE, text=True).stdout
    run("record")
    run("record")
    text = run("render")
    assert 'imageboard_http_requests_total{method="GET",route="/health",status="200"} 2.0' in text

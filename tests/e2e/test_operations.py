"""What operators do day to day (docs/operations.md), against the running test stack:
`nameko shell` recipes, and one request id followed through gateway and service logs."""
import json
import os
import subprocess

import pytest

from imageboard import PROJECT_ROOT
from imageboard.config import config_path
from imageboard_ops.processes import BIN
from imageboard_ops.util import log_path, wait_for
from tests.stack import bearer

pytestmark = pytest.mark.e2e


def nameko_shell(script):
    """Runs a script in `nameko shell` exactly as an operator would (plain interface, the
    suite's environment: its vhost and databases); returns the lines it printed."""
    proc = subprocess.run(
        [os.path.join(BIN, "nameko"), "shell", "--config", config_path(), "--interface", "plain"],
        input=script, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=60)
    return proc.stdout


def printed_json(output, tag):
    for line in output.splitlines():
        if tag in line:
            return json.loads(line.split(tag, 1)[1])
    raise AssertionError(f"{tag} not printed:\n{output[-3000:]}")


def test_nameko_shell_recipes_grant_admin_find_a_user_and_broadcast(api, register):
    user = register("ops")
    name = user["username"]
    # The notifications service learns about users from user.registered: wait for the welcome.
    wait_for(lambda: api("GET", "/api/notifications/", headers=bearer(user)).json(), 15,
             what="the welcome notification")

    output = nameko_shell(f"""
import json
print("FOUND", json.dumps(n.rpc.users.find_user("{name}")))
print("ADMIN", json.dumps(n.rpc.users.set_admin("{name}")))
print("SENT", json.dumps(n.rpc.notifications.broadcast("Maintenance tonight at 22:00 UTC")))
from imageboard_ops import outbox
print("OUTBOX", json.dumps(outbox.status(n.config, "users")))
""")
    assert printed_json(output, "FOUND ")["id"] == user["id"]
    assert printed_json(output, "ADMIN ") == {"id": user["id"], "username": name, "is_admin": True}
    assert printed_json(output, "SENT ")["recipients"] >= 1
    assert printed_json(output, "OUTBOX ")["total"] >= 1

    # The grant is in the token of the next login; the broadcast is in the user's list.
    login = api("POST", "/api/users/login/", json={"username": name, "password": "password1"})
    stats = api("GET", "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-02",
                headers=bearer(login.json()))
    assert stats.status_code == 200, stats.text
    messages = [n["message"] for n in api("GET", "/api/notifications/", headers=bearer(user)).json()
                if n["type"] == "SYSTEM"]
    assert "Maintenance tonight at 22:00 UTC" in messages


def _lines_with(name, request_id):
    with open(log_path(name)) as fh:
        return [json.loads(line) for line in fh
                if request_id in line and line.startswith("{")]


def test_one_request_id_runs_through_gateway_and_service_logs(api, unique):
    request_id = f"ops-trace-{unique}"
    resp = api("POST", "/api/users/register/", headers={"X-Request-ID": request_id},
               json={"username": f"trace_{unique}", "email": f"trace_{unique}@example.com",
                     "password": "password1"})
    assert resp.status_code == 201 and resp.headers["X-Request-ID"] == request_id

    def logged():
        return _lines_with("gateway", request_id) and _lines_with("users", request_id)
    wait_for(logged, 10, what="both logs to carry the request id")
    access = [e for e in _lines_with("gateway", request_id) if e["logger"] == "gateway.access"]
    assert access and access[0]["status"] == 201 and access[0]["path"].rstrip("/") == "/api/users/register"
    calls = [e for e in _lines_with("users", request_id) if e["message"] == "rpc call"]
    assert calls and calls[0]["method"] == "register" and calls[0]["service"] == "users"
    assert all(e["request_id"] == request_id for e in access + calls)
    print(f"\n{request_id}: gateway {access[0]['message']} {access[0]['status']} "
          f"{access[0]['duration_ms']} ms; users.{calls[0]['method']} {calls[0]['duration_ms']} ms")

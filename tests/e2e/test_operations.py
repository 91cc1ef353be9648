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

    # Rights follow the stored flag (a fresh login has them too); the broadcast is listed.
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


STATS = "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-02"


def imageboard_cli(*args):
    """The `imageboard` CLI as an operator runs it (the suite's environment)."""
    proc = subprocess.run([os.path.join(BIN, "imageboard"), *args], cwd=PROJECT_ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def refused_within_a_second(check, what):
    """check() becomes true within 1 s of the operator's command returning (contract v2 §3.3)."""
    wait_for(check, 1.0, interval=0.02, what=what)


def test_cli_grants_and_revokes_admin_and_revokes_sessions_at_once(api, register):
    user = register("opcli")
    name = user["username"]
    assert api("GET", STATS, headers=bearer(user)).status_code == 403

    rc, out, err = imageboard_cli("make-admin", name)
    assert rc == 0, err
    assert json.loads(out) == {"id": user["id"], "username": name, "is_admin": True}
    refused_within_a_second(lambda: api("GET", STATS, headers=bearer(user)).status_code == 200,
                            "the grant on the token issued before it")
    rc, out, err = imageboard_cli("make-admin", name, "--revoke")
    assert rc == 0 and json.loads(out)["is_admin"] is False, err
    refused_within_a_second(lambda: api("GET", STATS, headers=bearer(user)).status_code == 403,
                            "the revocation of admin rights")

    rc, out, err = imageboard_cli("revoke-sessions", name)
    assert rc == 0 and json.loads(out) == {"id": user["id"], "username": name, "sessions_revoked": True}, err
    refused_within_a_second(
        lambda: api("GET", "/api/notifications/unread-count/", headers=bearer(user)).status_code == 401,
        "every session revoked")
    assert api("GET", "/api/posts/", headers=bearer(user)).json()["error"]["code"] == "token_revoked"
    rc, _, err = imageboard_cli("revoke-sessions", f"nobody_{user['id']}")
    assert rc == 1 and "No user named" in err


def test_nameko_shell_revokes_sessions_and_admin_rights_at_once(api, register):
    user = register("opsh")
    name = user["username"]
    output = nameko_shell(f"""
import json
print("ADMIN", json.dumps(n.rpc.users.set_admin("{name}")))
""")
    assert printed_json(output, "ADMIN ")["is_admin"] is True
    refused_within_a_second(lambda: api("GET", STATS, headers=bearer(user)).status_code == 200, "grant")
    output = nameko_shell(f"""
import json
print("UNADMIN", json.dumps(n.rpc.users.set_admin("{name}", False)))
print("REVOKED", json.dumps(n.rpc.users.revoke_sessions("{name}")))
""")
    assert printed_json(output, "UNADMIN ")["is_admin"] is False
    assert printed_json(output, "REVOKED ")["sessions_revoked"] is True
    refused_within_a_second(
        lambda: api("GET", "/api/posts/", headers=bearer(user)).status_code == 401, "sessions revoked")
    fresh = api("POST", "/api/users/login/", json={"username": name, "password": "password1"}).json()
    assert api("GET", STATS, headers=bearer(fresh)).status_code == 403  # rights, not the claim

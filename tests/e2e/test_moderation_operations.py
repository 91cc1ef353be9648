"""The recipes of docs/operations.md, "Moderating", run as an operator runs them (the
`imageboard` CLI and `nameko shell`) against the test stack."""
import json

import pytest
from nameko.exceptions import MethodNotFound
from nameko.standalone.rpc import ClusterRpcProxy

from imageboard_ops.util import wait_for
from tests.e2e.conftest import bearer
from tests.e2e.test_operations import imageboard_cli, nameko_shell, printed_json, refused_within_a_second
from tests.e2e.test_posts_api import create, make_admin

pytestmark = pytest.mark.e2e


def can_write(api, user):
    return api("PATCH", "/api/users/me/", json={}, headers=bearer(user)).status_code != 403


def test_cli_lists_reports_bans_and_unbans(api, register, config):
    root = make_admin(config, api, register("opmroot"))
    alice, bob = register("opma"), register("opmb")
    post = create(api, alice, "cli", "reported").json()
    made = api("POST", "/api/reports/", headers=bearer(bob),
               json={"target_type": "post", "target_id": post["id"], "reason": "spam"}).json()

    rc, out, err = imageboard_cli("reports", "--status", "open", "--limit", "5")
    assert rc == 0, err
    page = json.loads(out)
    assert page["results"][0]["id"] == made["id"] and page["count"] >= 1

    rc, out, err = imageboard_cli("ban", alice["username"], "--reason", "spam", "--days", "7",
                                  "--moderator", root["username"])
    assert rc == 0, err
    ban = json.loads(out)
    assert (ban["user_id"], ban["reason"]) == (alice["id"], "spam") and ban["expires_at"]
    refused_within_a_second(lambda: not can_write(api, alice), "the operator's ban")
    entry = api("GET", "/api/modlog/?action=ban_user", headers=bearer(root)).json()["results"][0]
    assert entry["target_id"] == alice["id"] and entry["moderator"]["id"] == root["id"]

    rc, out, err = imageboard_cli("unban", alice["username"], "--reason", "appeal",
                                  "--moderator", root["username"])
    assert rc == 0 and json.loads(out) == {"user_id": alice["id"], "unbanned": True}, err
    refused_within_a_second(lambda: can_write(api, alice), "the operator's unban")

    rc, out, err = imageboard_cli("ban", alice["username"], "--reason", "x", "--permanent",
                                  "--moderator", bob["username"])
    assert rc == 1 and "is not an admin" in err
    rc, out, err = imageboard_cli("ban", root["username"], "--reason", "x", "--permanent",
                                  "--moderator", root["username"])
    assert rc == 1 and "cannot be banned" in err
    rc, out, err = imageboard_cli("unban", alice["username"], "--moderator", root["username"])
    assert rc == 1 and "no current ban" in err


def test_nameko_shell_lists_open_reports(api, register, config):
    alice, bob = register("opsa"), register("opsb")
    post = create(api, alice, "shell", "reported").json()
    made = api("POST", "/api/reports/", headers=bearer(bob),
               json={"target_type": "post", "target_id": post["id"], "reason": "abuse"}).json()
    out = nameko_shell('import json\nprint("REPORTS" + json.dumps('
                       'n.rpc.moderation.list_reports("open", 1, 5)))\n')
    assert printed_json(out, "REPORTS")["results"][0]["id"] == made["id"]


def test_cli_removes_and_restores_through_the_content_services(api, register, config):
    root = make_admin(config, api, register("oprroot"))
    alice = register("opra")
    post = create(api, alice, "to remove", "content").json()
    with ClusterRpcProxy(config, timeout=10) as rpc:
        try:
            rpc.posts.restore_post(post["id"], "probe", root["id"])
        except MethodNotFound:
            pytest.skip("posts.remove_post/restore_post come with the content work (issue 18)")
        except Exception:  # noqa: BLE001 (not_removed or the like: the RPC exists)
            pass

    rc, out, err = imageboard_cli("remove", "post", str(post["id"]), "--reason", "spam",
                                  "--moderator", root["username"])
    assert rc == 0, err
    assert api("GET", f"/api/posts/{post['id']}/").status_code == 404
    rc, out, err = imageboard_cli("restore", "post", str(post["id"]), "--reason", "mistake",
                                  "--moderator", root["username"])
    assert rc == 0, err
    assert api("GET", f"/api/posts/{post['id']}/").status_code == 200
    wait_for(lambda: {e["action"] for e in api("GET", "/api/modlog/?limit=20").json()["results"]
                      if e["target_id"] == post["id"]} >= {"remove_post", "restore_post"},
             15, interval=0.2, what="the modlog entries of the removal and the restore")

"""Reports, bans and the modlog (contract v2 sections 5.1-5.3, 3.3, 8.2) over HTTP against
the running stack. Removal paths (resolve `remove`/`ban`, content.removed) need the posts
and comments services' remove_* RPCs and are covered after they are merged."""
import pytest

from imageboard_ops.util import wait_for
from tests.e2e.conftest import bearer
from tests.e2e.test_posts_api import create, error_of, make_admin

pytestmark = pytest.mark.e2e


def post_of(api, user, title="Reported title", content="Reported content"):
    resp = create(api, user, title, content)
    assert resp.status_code == 201, resp.text
    return resp.json()


def comment_of(api, user, post_id, content="Reported comment"):
    resp = api("POST", "/api/comments/", json={"post_id": post_id, "content": content},
               headers=bearer(user))
    assert resp.status_code == 201, resp.text
    return resp.json()


def report(api, user, target_type, target_id, reason="spam", **extra):
    return api("POST", "/api/reports/", headers=bearer(user),
               json={"target_type": target_type, "target_id": target_id, "reason": reason, **extra})


def can_write(api, user):
    """A write that changes nothing (an empty PATCH of me): 400 missing_fields unless banned."""
    return api("PATCH", "/api/users/me/", json={}, headers=bearer(user))


def test_report_a_post_and_a_comment_with_their_snapshots(api, register):
    alice, bob = register("rpa"), register("rpb")
    post = post_of(api, alice, "Buy now", "cheap pills")
    comment = comment_of(api, alice, post["id"], "link farm")

    resp = report(api, bob, "post", post["id"], "spam")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["target_type"] == "post" and body["target_id"] == post["id"]
    assert body["post_id"] == post["id"] and body["status"] == "open" and body["resolution"] is None
    assert body["reason"] == "spam" and body["details"] == ""
    assert body["reporter"] == {"id": bob["id"], "username": bob["username"]}
    assert body["target"] == {"author": {"id": alice["id"], "username": alice["username"]},
                              "title": "Buy now", "content": "cheap pills"}

    resp = report(api, bob, "comment", comment["id"], "other", details="  Link farm  ")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert (body["post_id"], body["details"]) == (post["id"], "Link farm")
    assert body["target"] == {"author": {"id": alice["id"], "username": alice["username"]},
                              "title": None, "content": "link farm"}


def test_report_refusals(api, register):
    # RATE_LIMIT_REPORT (10 per hour) counts every attempt: bob, carol and dave share them.
    alice, bob, carol, dave = register("rra"), register("rrb"), register("rrc"), register("rrd")
    post = post_of(api, alice)
    comment = comment_of(api, alice, post["id"])
    assert error_of(report(api, bob, "post", 2_000_000_000)) == (404, "post_not_found")
    assert error_of(report(api, bob, "comment", 2_000_000_000)) == (404, "comment_not_found")
    assert error_of(report(api, alice, "post", post["id"])) == (422, "own_content")
    assert error_of(report(api, alice, "comment", comment["id"])) == (422, "own_content")
    assert error_of(report(api, bob, "post", post["id"], "other")) == (400, "missing_fields")
    resp = report(api, bob, "post", post["id"], "other", details="   ")
    assert error_of(resp) == (400, "missing_fields") and "details" in resp.json()["error"]["fields"]
    assert error_of(api("POST", "/api/reports/", json={"target_type": "post"},
                        headers=bearer(bob))) == (400, "missing_fields")
    assert error_of(report(api, carol, "post", post["id"], "boring")) == (422, "validation_error")
    assert error_of(report(api, carol, "thread", post["id"])) == (422, "validation_error")
    assert error_of(report(api, carol, "post", post["id"], details="x" * 1001)) == (422, "validation_error")

    assert report(api, dave, "post", post["id"]).status_code == 201
    assert error_of(report(api, dave, "post", post["id"], "abuse")) == (409, "conflict")
    # Another reporter, or another target, is no conflict.
    assert report(api, carol, "post", post["id"]).status_code == 201
    assert report(api, dave, "comment", comment["id"]).status_code == 201


def test_the_queue_is_newest_first_filtered_by_status_and_paginated(api, register, config):
    admin = make_admin(config, api, register("rqadm"))
    author = register("rqa")
    posts = [post_of(api, author, f"queue {i}") for i in range(3)]
    reporter = register("rqb")
    made = [report(api, reporter, "post", p["id"]).json()["id"] for p in posts]

    resp = api("GET", "/api/reports/?status=open&limit=2", headers=bearer(admin))
    assert resp.status_code == 200, resp.text
    page = resp.json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert [r["id"] for r in page["results"]] == [made[2], made[1]]
    assert page["count"] >= 3 and page["previous"] is None and "page=2" in page["next"]
    second = api("GET", "/api/reports/?status=open&limit=2&page=2", headers=bearer(admin)).json()
    assert second["results"][0]["id"] == made[0] and second["previous"] is not None

    resolved = api("POST", f"/api/reports/{made[1]}/resolve/", headers=bearer(admin),
                   json={"action": "dismiss", "note": "fine"})
    assert resolved.status_code == 200, resolved.text
    open_ids = [r["id"] for r in api("GET", "/api/reports/?status=open&limit=100",
                                     headers=bearer(admin)).json()["results"]]
    assert made[1] not in open_ids and made[2] in open_ids
    done = api("GET", "/api/reports/?status=resolved&limit=100", headers=bearer(admin)).json()
    assert made[1] in [r["id"] for r in done["results"]]
    assert all(r["status"] == "resolved" for r in done["results"])
    every = api("GET", "/api/reports/?limit=100", headers=bearer(admin)).json()
    assert {made[0], made[1], made[2]} <= {r["id"] for r in every["results"]}
    assert every["count"] >= done["count"] + 2
    assert error_of(api("GET", "/api/reports/?status=closed", headers=bearer(admin))) == \
        (400, "invalid_status")
    assert error_of(api("GET", "/api/reports/?limit=0", headers=bearer(admin))) == \
        (400, "invalid_pagination")


def test_resolve_dismiss_and_its_refusals(api, register, config):
    admin = make_admin(config, api, register("rdadm"))
    author, reporter = register("rda"), register("rdb")
    post = post_of(api, author)
    report_id = report(api, reporter, "post", post["id"], "abuse").json()["id"]
    url = f"/api/reports/{report_id}/resolve/"

    assert error_of(api("POST", url, json={}, headers=bearer(admin))) == (400, "missing_fields")
    assert error_of(api("POST", url, json={"action": "close"}, headers=bearer(admin))) == \
        (422, "validation_error")
    assert error_of(api("POST", url, json={"action": "ban"}, headers=bearer(admin))) == \
        (400, "missing_fields")
    assert error_of(api("POST", url, json={"action": "dismiss", "ban_days": 3},
                        headers=bearer(admin))) == (422, "validation_error")
    assert error_of(api("POST", "/api/reports/2000000000/resolve/", json={"action": "dismiss"},
                        headers=bearer(admin))) == (404, "report_not_found")

    resp = api("POST", url, json={"action": "dismiss", "note": "not abuse"}, headers=bearer(admin))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["id"] == report_id and body["status"] == "resolved"
    resolution = body["resolution"]
    assert {k: resolution[k] for k in ("action", "note", "ban_days", "resolved_by")} == {
        "action": "dismiss", "note": "not abuse", "ban_days": None,
        "resolved_by": {"id": admin["id"], "username": admin["username"]}}
    assert resolution["resolved_at"]
    assert error_of(api("POST", url, json={"action": "dismiss"}, headers=bearer(admin))) == \
        (409, "already_resolved")
    # Resolved: the reporter may report the item again.
    assert report(api, reporter, "post", post["id"]).status_code == 201
    # The reporter's export has both, oldest first, the moderator hidden (section 6.4).
    exported = api("GET", "/api/users/me/export/", headers=bearer(reporter)).json()["reports"]
    assert [r["id"] for r in exported][0] == report_id and len(exported) == 2
    assert exported[0]["resolution"]["resolved_by"] is None
    assert exported[0]["resolution"]["note"] == "not abuse"

    entries = api("GET", "/api/modlog/?action=resolve_report&limit=100").json()["results"]
    entry = next(e for e in entries if e["target_id"] == report_id)
    assert (entry["target_type"], entry["reason"], entry["expires_at"]) == ("report", "not abuse", None)
    assert "moderator" not in entry


def test_a_ban_refuses_writes_of_old_tokens_within_a_second_and_unban_restores_them(api, register, config):
    admin = make_admin(config, api, register("bnadm"))
    bob = register("bnb")  # his token is issued before the ban
    assert error_of(can_write(api, bob)) == (400, "missing_fields")

    resp = api("POST", f"/api/users/{bob['id']}/ban/", json={"reason": "spam", "days": 7},
               headers=bearer(admin))
    assert resp.status_code == 200, resp.text
    ban = resp.json()
    assert set(ban) == {"user_id", "reason", "created_at", "expires_at"}
    assert (ban["user_id"], ban["reason"]) == (bob["id"], "spam") and ban["expires_at"]
    wait_for(lambda: can_write(api, bob).status_code == 403, 1.0, interval=0.02,
             what="the ban on every gateway")
    refused = can_write(api, bob).json()["error"]
    assert refused["code"] == "user_banned"
    assert refused["details"] == {"reason": "spam", "expires_at": ban["expires_at"]}
    assert refused["message"] == f"You are banned until {ban['expires_at']}: spam"
    assert error_of(create(api, bob)) == (403, "user_banned")
    # Reading, mark-all-read and "me" stay open; me shows the ban.
    me = api("GET", "/api/users/me/", headers=bearer(bob)).json()
    assert me["ban"] == {"reason": "spam", "created_at": ban["created_at"],
                         "expires_at": ban["expires_at"]}
    assert api("POST", "/api/notifications/mark-all-read/", headers=bearer(bob)).status_code == 200

    # A re-ban replaces the ban (permanent now).
    resp = api("POST", f"/api/users/{bob['id']}/ban/", json={"reason": "again", "days": None},
               headers=bearer(admin))
    assert resp.status_code == 200 and resp.json()["expires_at"] is None
    wait_for(lambda: can_write(api, bob).json()["error"].get("details", {}).get("reason") == "again",
             1.0, interval=0.02, what="the replacing ban")
    assert can_write(api, bob).json()["error"]["message"] == "You are banned permanently: again"

    resp = api("DELETE", f"/api/users/{bob['id']}/ban/", json={"reason": "appeal"},
               headers=bearer(admin))
    assert resp.status_code == 204, resp.text
    wait_for(lambda: can_write(api, bob).status_code == 400, 1.0, interval=0.02,
             what="the unban on every gateway")
    assert create(api, bob).status_code == 201
    assert error_of(api("DELETE", f"/api/users/{bob['id']}/ban/", headers=bearer(admin))) == \
        (404, "not_banned")

    # The SYSTEM notifications (contract v2 section 8.2), moderator anonymous.
    def messages():
        resp = api("GET", "/api/notifications/?limit=100", headers=bearer(bob))
        return [n for n in resp.json() if n["type"] == "SYSTEM"]
    wait_for(lambda: len(messages()) >= 4, 15, interval=0.2, what="the ban notifications")
    texts = [n["message"] for n in messages()]
    assert f"You are banned until {ban['expires_at']}: spam" in texts
    assert "You are banned permanently: again" in texts
    assert "Your ban was lifted" in texts
    assert all(n["data"] == {"actor_id": None} for n in messages()
               if n["message"].startswith(("You are banned", "Your ban")))


def test_ban_refusals(api, register, config):
    admin = make_admin(config, api, register("brad"))
    other_admin = make_admin(config, api, register("brad2"))
    bob = register("brb")
    url = f"/api/users/{bob['id']}/ban/"
    assert error_of(api("POST", f"/api/users/{other_admin['id']}/ban/",
                        json={"reason": "x", "days": 1}, headers=bearer(admin))) == \
        (403, "cannot_ban_admin")
    assert error_of(api("POST", "/api/users/2000000000/ban/", json={"reason": "x", "days": 1},
                        headers=bearer(admin))) == (404, "user_not_found")
    assert error_of(api("POST", url, json={"reason": "x"}, headers=bearer(admin))) == \
        (400, "missing_fields")
    assert error_of(api("POST", url, json={"days": 1}, headers=bearer(admin))) == \
        (400, "missing_fields")
    for bad in ({"reason": "x", "days": 0}, {"reason": "x", "days": 3651},
                {"reason": "   ", "days": 1}, {"reason": "x" * 501, "days": 1},
                {"reason": "x", "days": "7"}):
        assert error_of(api("POST", url, json=bad, headers=bearer(admin))) == \
            (422, "validation_error"), bad
    assert error_of(api("DELETE", url, headers=bearer(admin))) == (404, "not_banned")
    assert error_of(can_write(api, bob)) == (400, "missing_fields")  # nothing was banned


def test_the_modlog_hides_moderators_from_everyone_but_admins(api, register, config):
    admin = make_admin(config, api, register("mladm"))
    bob = register("mlb")
    ban = api("POST", f"/api/users/{bob['id']}/ban/", json={"reason": "flood", "days": 2},
              headers=bearer(admin)).json()
    assert api("DELETE", f"/api/users/{bob['id']}/ban/", headers=bearer(admin)).status_code == 204

    public = api("GET", "/api/modlog/?limit=100")
    assert public.status_code == 200, public.text
    page = public.json()
    assert set(page) == {"count", "next", "previous", "results"}
    mine = [e for e in page["results"] if e["target_type"] == "user" and e["target_id"] == bob["id"]]
    assert [e["action"] for e in mine] == ["unban_user", "ban_user"]  # newest first
    unban, banned = mine
    assert banned == {"id": banned["id"], "action": "ban_user", "target_type": "user",
                      "target_id": bob["id"], "reason": "flood", "created_at": banned["created_at"],
                      "expires_at": ban["expires_at"]}
    assert unban["expires_at"] is None and unban["reason"] == "" and "moderator" not in unban
    # A user's token changes nothing; an admin's shows the moderator.
    as_user = api("GET", "/api/modlog/?action=ban_user&limit=100", headers=bearer(bob)).json()
    assert all("moderator" not in e for e in as_user["results"])
    as_admin = api("GET", "/api/modlog/?action=ban_user&limit=100", headers=bearer(admin)).json()
    entry = next(e for e in as_admin["results"] if e["target_id"] == bob["id"])
    assert entry["moderator"] == {"id": admin["id"], "username": admin["username"]}
    assert all(e["action"] == "ban_user" for e in as_admin["results"])
    assert error_of(api("GET", "/api/modlog/?action=nuke")) == (400, "invalid_action")
    assert api("GET", "/api/modlog/?limit=1&page=2").json()["previous"] is not None


def publish(config, payload, key, actor_id):
    """An event as the posts or comments service publishes it (their remove/restore RPCs
    come with the content work): straight onto its topic."""
    from confluent_kafka import Producer

    from contracts import events as ev
    from imageboard.config import topic

    event = ev.new_event(payload, key=key, actor_id=actor_id)
    producer = Producer({"bootstrap.servers": config["KAFKA_BOOTSTRAP_SERVERS"], "acks": "all"})
    producer.produce(topic(config, event.payload.spec.topic), ev.encode(event), key=str(key))
    assert producer.flush(15) == 0


def test_a_direct_removal_event_resolves_the_open_reports_and_is_logged(api, register, config):
    from contracts import events as ev

    admin = make_admin(config, api, register("dradm"))
    alice, bob, carol = register("dra"), register("drb"), register("drc")
    post = post_of(api, alice, "Removed soon", "spam spam")
    ids = [report(api, who, "post", post["id"], reason).json()["id"]
           for who, reason in ((bob, "spam"), (carol, "abuse"))]
    publish(config, ev.ContentRemoved(target_type="post", target_id=post["id"], post_id=post["id"],
                                      post_title="Removed soon", author_id=alice["id"],
                                      reason="off-topic", removed_by=admin["id"], report_id=None),
            key=post["id"], actor_id=admin["id"])

    def resolved():
        rows = api("GET", "/api/reports/?status=resolved&limit=100", headers=bearer(admin)).json()
        return {r["id"]: r for r in rows["results"] if r["id"] in ids}
    wait_for(lambda: len(resolved()) == 2, 15, interval=0.2, what="the reports resolved")
    for row in resolved().values():
        res = row["resolution"]
        assert (res["action"], res["note"], res["ban_days"]) == ("remove", "off-topic", None)
        assert res["resolved_by"] == {"id": admin["id"], "username": admin["username"]}
    entries = api("GET", "/api/modlog/?action=remove_post&limit=100", headers=bearer(admin)).json()
    entry = next(e for e in entries["results"] if e["target_id"] == post["id"])
    assert (entry["target_type"], entry["reason"]) == ("post", "off-topic")
    assert entry["moderator"] == {"id": admin["id"], "username": admin["username"]}

    publish(config, ev.ContentRestored(target_type="post", target_id=post["id"], post_id=post["id"],
                                       post_title="Removed soon", author_id=alice["id"],
                                       reason="mistake", restored_by=admin["id"]),
            key=post["id"], actor_id=admin["id"])
    wait_for(lambda: any(e["target_id"] == post["id"] for e in api(
        "GET", "/api/modlog/?action=restore_post&limit=100").json()["results"]), 15,
        interval=0.2, what="the restore_post entry")


def test_an_admin_deleting_someone_elses_post_is_logged_the_author_is_not(api, register, config):
    admin = make_admin(config, api, register("dladm"))
    alice = register("dla")
    theirs, own = post_of(api, alice, "theirs"), post_of(api, alice, "own")
    assert api("DELETE", f"/api/posts/{theirs['id']}/", headers=bearer(admin)).status_code == 204
    assert api("DELETE", f"/api/posts/{own['id']}/", headers=bearer(alice)).status_code == 204

    def logged():
        rows = api("GET", "/api/modlog/?action=delete_post&limit=100").json()["results"]
        return {e["target_id"]: e for e in rows}
    wait_for(lambda: theirs["id"] in logged(), 15, interval=0.2, what="the delete_post entry")
    assert logged()[theirs["id"]]["reason"] == "" and own["id"] not in logged()


def test_an_erased_account_leaves_its_reports_anonymous_and_its_items_snapshots_blank(api, register, config):
    admin = make_admin(config, api, register("eradm"))
    victim, other = register("erv"), register("ero")
    theirs = post_of(api, other, "other's", "neutral")
    own = post_of(api, victim, "victim's", "victim's words")
    made = report(api, victim, "post", theirs["id"], "other", details="personal words").json()
    about = report(api, other, "post", own["id"]).json()
    assert api("POST", f"/api/users/{victim['id']}/ban/", json={"reason": "spam", "days": 1},
               headers=bearer(admin)).status_code == 200
    assert api("DELETE", "/api/users/me/", json={"password": "password1"},
               headers=bearer(victim)).status_code == 204

    def rows():
        listed = api("GET", "/api/reports/?limit=100", headers=bearer(admin)).json()["results"]
        return {r["id"]: r for r in listed if r["id"] in (made["id"], about["id"])}
    wait_for(lambda: rows()[made["id"]]["reporter"] is None
             and rows()[about["id"]]["target"]["author"] is None, 60, interval=0.5,
             what="the erasure in the moderation service")
    assert rows()[made["id"]]["details"] == ""
    assert rows()[about["id"]]["target"] == {"author": None, "title": None, "content": ""}
    # The modlog keeps the ban (ids and the moderator's reason).
    assert any(e["target_id"] == victim["id"] for e in
               api("GET", "/api/modlog/?action=ban_user&limit=100").json()["results"])

"""Who may touch what: other users' posts and notifications, admin-only statistics,
private profile fields."""
import jwt
import pytest

from imageboard_ops.util import wait_for
from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


def error_of(resp):
    return resp.status_code, resp.json()["error"]["code"]


def test_deleting_someone_elses_post_is_403_and_changes_nothing(api, register, new_post, admin_of):
    author, intruder = register("own"), register("intr")
    post = new_post(author)
    resp = api("DELETE", f"/api/posts/{post['id']}/", headers=bearer(intruder))
    assert error_of(resp) == (403, "not_post_author"), resp.text
    assert api("GET", f"/api/posts/{post['id']}/").status_code == 200
    # Without a token it is 401, not 403 (and still nothing changes).
    resp = api("DELETE", f"/api/posts/{post['id']}/")
    assert error_of(resp) == (401, "not_authenticated"), resp.text
    assert api("GET", f"/api/posts/{post['id']}/").status_code == 200
    # An admin may; the author could too.
    assert api("DELETE", f"/api/posts/{post['id']}/", headers=admin_of(intruder)).status_code == 204
    assert api("GET", f"/api/posts/{post['id']}/").status_code == 404


def test_a_forged_admin_claim_cannot_delete(api, register, new_post):
    """is_admin only counts when the token is genuinely signed (test_jwt has every forged
    variant): the intruder's own genuine token with is_admin switched on, unsigned or
    signed with a guessed key, is refused before any rights are checked; the genuine token
    as issued (is_admin false) is a 403. The post outlives all of it."""
    author, intruder = register("own2"), register("intr2")
    post = new_post(author)
    claims = jwt.decode(intruder["token"], options={"verify_signature": False})
    assert claims["is_admin"] is False  # the control: what the server issued
    header, _, signature = intruder["token"].split(".")
    elevated = dict(claims, is_admin=True)
    forged = {
        "re-signed with a guessed key": jwt.encode(elevated, "guessed-secret-" * 4, algorithm="HS256"),
        "alg none": jwt.encode(elevated, None, algorithm="none"),
        "original signature": ".".join([header, jwt.encode(elevated, "x" * 32, algorithm="HS256")
                                        .split(".")[1], signature]),
    }
    for name, token in forged.items():
        resp = api("DELETE", f"/api/posts/{post['id']}/", headers={"Authorization": f"Bearer {token}"})
        assert error_of(resp) == (401, "invalid_token"), (name, resp.text)
    resp = api("DELETE", f"/api/posts/{post['id']}/", headers=bearer(intruder))
    assert error_of(resp) == (403, "not_post_author"), resp.text
    assert api("GET", f"/api/posts/{post['id']}/").status_code == 200


def test_a_genuine_is_admin_claim_gives_no_rights(api, register, new_post, claimed_admin):
    """Contract v2 decision 2: the is_admin claim is informational, rights follow the stored
    flag. A token the server really signed with is_admin true (what an old login after a
    since-revoked grant holds) neither deletes another's post nor reads admin statistics."""
    author, intruder = register("own3"), register("intr3")
    post = new_post(author)
    resp = api("DELETE", f"/api/posts/{post['id']}/", headers=claimed_admin(intruder))
    assert error_of(resp) == (403, "not_post_author"), resp.text
    resp = api("GET", "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-02",
               headers=claimed_admin(intruder))
    assert error_of(resp) == (403, "admin_required"), resp.text
    assert api("GET", f"/api/posts/{post['id']}/").status_code == 200


def test_the_email_is_shown_only_to_its_owner(api, register):
    alice, bob = register("alice"), register("bob")
    assert "email" not in api("GET", f"/api/users/profile/{alice['id']}/").json()
    assert "email" not in api("GET", f"/api/users/profile/{alice['id']}/",
                              headers=bearer(bob)).json()
    assert api("GET", f"/api/users/profile/{alice['id']}/",
               headers=bearer(alice)).json()["email"] == alice["email"]


def test_post_statistics_are_for_admins_only(api, config, register, admin_of):
    if "analytics" not in config["SERVICES"]:
        pytest.skip("the analytics service is not deployed")
    user = register("stats")
    path = "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-31"
    assert error_of(api("GET", path)) == (401, "not_authenticated")
    assert error_of(api("GET", path, headers=bearer(user))) == (403, "admin_required")
    # The stack runs ClickHouse: the admin gets the statistics, not a 503.
    resp = api("GET", path, headers=admin_of(user))
    assert resp.status_code == 200, resp.text
    assert resp.json()["period"] == {"start_date": "2026-01-01", "end_date": "2026-01-31"}


def test_notifications_are_private(api, config, register, new_post):
    if "notifications" not in config["SERVICES"]:
        pytest.skip("the notifications service is not deployed")
    owner, liker = register("nown"), register("nlik")
    post = new_post(owner)
    assert api("POST", f"/api/posts/{post['id']}/like/", headers=bearer(liker)).status_code == 200

    def owners_like():
        items = api("GET", "/api/notifications/", headers=bearer(owner)).json()
        return [n for n in items if n["type"] == "LIKE"]
    wait_for(owners_like, 15, what="the LIKE notification")
    notification = owners_like()[0]
    # The liker sees only their own (the SYSTEM welcome), never the owner's.
    wait_for(lambda: api("GET", "/api/notifications/", headers=bearer(liker)).json(), 15,
             what="the liker's welcome")
    theirs = api("GET", "/api/notifications/", headers=bearer(liker)).json()
    assert [n["type"] for n in theirs] == ["SYSTEM"]
    assert notification["id"] not in {n["id"] for n in theirs}
    resp = api("PATCH", f"/api/notifications/{notification['id']}/mark-read/", headers=bearer(liker))
    assert error_of(resp) == (403, "notification_forbidden"), resp.text
    assert owners_like()[0]["read"] is False
    resp = api("PATCH", f"/api/notifications/{notification['id']}/mark-read/")
    assert error_of(resp) == (401, "not_authenticated"), resp.text
    # mark-all-read by someone else marks only their own (the welcome) and leaves the owner's.
    resp = api("POST", "/api/notifications/mark-all-read/", headers=bearer(liker))
    assert resp.status_code == 200 and resp.json() == {"marked": 1}, resp.text
    assert owners_like()[0]["read"] is False

"""Who may touch what: other users' posts and notifications, admin-only statistics,
private profile fields."""
import pytest

from imageboard_ops.util import wait_for
from tests.e2e.conftest import bearer
from tests.security.conftest import routed

pytestmark = pytest.mark.e2e


def test_deleting_someone_elses_post_is_403_and_changes_nothing(api, register, new_post, admin_of):
    author, intruder = register("own"), register("intr")
    post = new_post(author)
    resp = api("DELETE", f"/api/posts/{post['id']}/", headers=bearer(intruder))
    assert resp.status_code == 403 and resp.json()["error"]["code"]
    assert api("GET", f"/api/posts/{post['id']}/").status_code == 200
    # Without a token it is 401, not 403 (and still nothing changes).
    assert api("DELETE", f"/api/posts/{post['id']}/").status_code == 401
    # An admin may; the author could too.
    assert api("DELETE", f"/api/posts/{post['id']}/", headers=admin_of(intruder)).status_code == 204
    assert api("GET", f"/api/posts/{post['id']}/").status_code == 404


def test_a_forged_admin_claim_cannot_delete(api, register, new_post):
    """is_admin only counts when the token is genuinely signed (see test_jwt for the
    forged variants); a normal user's genuine token carries is_admin=false."""
    author, intruder = register("own2"), register("intr2")
    post = new_post(author)
    token = intruder["token"]
    assert api("DELETE", f"/api/posts/{post['id']}/",
               headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_the_email_is_shown_only_to_its_owner(api, register):
    alice, bob = register("alice"), register("bob")
    assert "email" not in api("GET", f"/api/users/profile/{alice['id']}/").json()
    assert "email" not in api("GET", f"/api/users/profile/{alice['id']}/",
                              headers=bearer(bob)).json()
    assert api("GET", f"/api/users/profile/{alice['id']}/",
               headers=bearer(alice)).json()["email"] == alice["email"]


def test_post_statistics_are_for_admins_only(api, register, admin_of):
    user = register("stats")
    path = "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-31"
    resp = api("GET", path)
    if not routed(resp):
        pytest.skip("analytics endpoints not routed yet")
    assert resp.status_code == 401
    resp = api("GET", path, headers=bearer(user))
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "admin_required"
    assert api("GET", path, headers=admin_of(user)).status_code in (200, 503)


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
    theirs = api("GET", "/api/notifications/", headers=bearer(liker)).json()
    assert notification["id"] not in {n["id"] for n in theirs}
    resp = api("PATCH", f"/api/notifications/{notification['id']}/mark-read/", headers=bearer(liker))
    assert resp.status_code == 403
    assert owners_like()[0]["read"] is False
    assert api("PATCH", f"/api/notifications/{notification['id']}/mark-read/").status_code == 401
    # mark-all-read by someone else leaves the owner's unread.
    assert api("POST", "/api/notifications/mark-all-read/", headers=bearer(liker)).status_code == 200
    assert owners_like()[0]["read"] is False

"""Contract v2 §3.3 and §6.1 on the running stack: logout, logout-all, password change,
admin grant and revoke, each refused or allowed as the contract says, within 1 s of the
acknowledged response, for tokens issued before the change; and the same on two more
gateway processes (their own gunicorn masters, one worker each)."""
import time

import jwt
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.extra_gateways import ExtraGateway
from tests.stack import bearer

pytestmark = pytest.mark.e2e

FRESHNESS = 1.0  # seconds: contract v2 §3.3


def login(api, user, password="password1"):
    resp = api("POST", "/api/users/login/", json={"username": user["username"], "password": password})
    assert resp.status_code == 200, resp.text
    return dict(user, token=resp.json()["token"])


def code(resp):
    return resp.status_code, resp.json()["error"]["code"] if resp.status_code >= 400 else None


def within(deadline_from, check, what):
    """Polls check() until it is true; fails unless that happened FRESHNESS seconds after
    `deadline_from` at the latest."""
    while True:
        if check():
            break
        if time.monotonic() - deadline_from > FRESHNESS:
            raise AssertionError(f"not within {FRESHNESS} s: {what}")
        time.sleep(0.01)
    assert time.monotonic() - deadline_from <= FRESHNESS, what


def unread(api, user):
    return api("GET", "/api/notifications/unread-count/", headers=bearer(user))


def test_logout_revokes_the_presented_token_only(api, register):
    user = register("lo")
    other = login(api, user)
    resp = api("POST", "/api/users/logout/", headers=bearer(user))
    acked = time.monotonic()
    assert resp.status_code == 204 and resp.text == ""
    within(acked, lambda: code(unread(api, user)) == (401, "token_revoked"), "logout")
    public = api("GET", "/api/posts/", headers=bearer(user))  # public endpoints too
    assert code(public) == (401, "token_revoked")
    assert public.headers["WWW-Authenticate"].startswith("Bearer")
    assert unread(api, other).status_code == 200
    assert code(api("POST", "/api/users/logout/")) == (401, "not_authenticated")


def test_logout_all_revokes_every_token_of_the_user(api, register):
    user = register("la")
    second, bystander = login(api, user), register("lb")
    assert api("POST", "/api/users/logout-all/", headers=bearer(second)).status_code == 204
    acked = time.monotonic()
    within(acked, lambda: code(unread(api, user)) == (401, "token_revoked")
           and code(unread(api, second)) == (401, "token_revoked"), "logout-all")
    assert unread(api, login(api, user)).status_code == 200  # a new login works
    assert unread(api, bystander).status_code == 200


def test_password_change_keeps_the_presented_token_and_revokes_the_others(api, register):
    user = register("pw")
    other = login(api, user)
    url = "/api/users/me/password/"
    wrong = api("POST", url, headers=bearer(user),
                json={"current_password": "nope-nope", "new_password": "password2"})
    assert code(wrong) == (422, "invalid_password") and "current_password" in wrong.json()["error"]["fields"]
    short = api("POST", url, headers=bearer(user),
                json={"current_password": "password1", "new_password": "short"})
    assert code(short) == (422, "validation_error") and "new_password" in short.json()["error"]["fields"]
    assert code(api("POST", url, headers=bearer(user), json={})) == (400, "missing_fields")
    assert unread(api, other).status_code == 200  # nothing changed yet

    resp = api("POST", url, headers=bearer(user),
               json={"current_password": "password1", "new_password": "password2"})
    acked = time.monotonic()
    assert resp.status_code == 204
    within(acked, lambda: code(unread(api, other)) == (401, "token_revoked"), "password change")
    assert unread(api, user).status_code == 200  # the presented one stays valid
    old = api("POST", "/api/users/login/", json={"username": user["username"], "password": "password1"})
    assert code(old) == (401, "invalid_credentials")
    assert unread(api, login(api, user, "password2")).status_code == 200


def test_a_token_without_jti_is_refused(api, register, config):
    user = register("nj")
    claims = jwt.decode(user["token"], options={"verify_signature": False})
    legacy = jwt.encode({k: v for k, v in claims.items() if k != "jti"}, config["JWT_SECRET"], "HS256")
    resp = api("GET", "/api/posts/", headers={"Authorization": f"Bearer {legacy}"})
    assert code(resp) == (401, "token_revoked")


STATS = "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-02"


def test_admin_grant_and_revoke_apply_to_a_token_issued_before(api, register, config):
    user = register("ad")
    assert code(api("GET", STATS, headers=bearer(user))) == (403, "admin_required")
    with ClusterRpcProxy(config, timeout=10) as rpc:
        rpc.users.set_admin(user["username"])
        acked = time.monotonic()
        within(acked, lambda: api("GET", STATS, headers=bearer(user)).status_code == 200, "grant")
        rpc.users.set_admin(user["username"], False)
        acked = time.monotonic()
        within(acked, lambda: code(api("GET", STATS, headers=bearer(user))) == (403, "admin_required"),
               "revoke")


@pytest.fixture(scope="module")
def gateways(stack):
    started = [ExtraGateway().start(), ExtraGateway().start()]
    yield started
    for gateway in started:
        gateway.stop()


def test_logout_all_applies_on_two_gateway_processes_within_a_second(api, register, gateways):
    import requests

    pids = [g.worker_pids() for g in gateways]
    assert all(len(p) == 1 for p in pids) and pids[0] != pids[1]  # two processes, one each
    user = register("two")
    token = login(api, user)

    def health(gateway, who):
        return requests.get(gateway.url + "/api/notifications/unread-count/",
                            headers=bearer(who), timeout=5)
    for gateway in gateways:  # both serve requests with the tokens issued before
        assert health(gateway, user).status_code == 200 and health(gateway, token).status_code == 200
    resp = api("POST", "/api/users/logout-all/", headers=bearer(user))
    acked = time.monotonic()
    assert resp.status_code == 204
    for gateway in gateways:
        within(acked, lambda: code(health(gateway, user)) == (401, "token_revoked")
               and code(health(gateway, token)) == (401, "token_revoked"),
               f"logout-all on the gateway at {gateway.url}")


def test_admin_grant_and_revoke_apply_on_two_gateway_processes_within_a_second(
        api, register, config, gateways):
    import requests

    user = register("two_admin")  # its token is issued before the grant

    def stats(gateway):
        return requests.get(gateway.url + STATS, headers=bearer(user), timeout=5)
    assert all(code(stats(g)) == (403, "admin_required") for g in gateways)
    with ClusterRpcProxy(config, timeout=10) as rpc:
        rpc.users.set_admin(user["username"])
        acked = time.monotonic()
        for gateway in gateways:
            within(acked, lambda: stats(gateway).status_code == 200, f"grant on {gateway.url}")
        rpc.users.set_admin(user["username"], False)
        acked = time.monotonic()
        for gateway in gateways:
            within(acked, lambda: code(stats(gateway)) == (403, "admin_required"),
                   f"revoke on {gateway.url}")

"""JWT attacks against the running gateway (contract decision 11): every forged,
expired, re-algorithmed or tampered token is a 401 with `WWW-Authenticate: Bearer`,
on protected endpoints and on public ones alike (a bad token is never ignored)."""
import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest

from imageboard.tokens import issue_token

pytestmark = pytest.mark.e2e


def b64(data):
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_for(user, **overrides):
    now = int(time.time())
    claims = {"sub": str(user["id"]), "username": user["username"], "is_admin": False,
              "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex, "ver": 0}
    claims.update(overrides)
    return claims


def hmac_token(secret, header, claims, digest=hashlib.sha256):
    signing_input = f"{b64(header)}.{b64(claims)}"
    signature = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


def tampered(token, **changes):
    """The same header and signature over a payload with `changes`: not re-signed."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    return f"{header}.{b64(claims)}.{signature}"


def forged_tokens(config, user):
    secret = config["JWT_SECRET"]
    claims = claims_for(user)
    admin = claims_for(user, is_admin=True)
    valid = issue_token(config, user["id"], user["username"], False)
    return {
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(admin)}.",
        "alg None": f"{b64({'alg': 'None', 'typ': 'JWT'})}.{b64(admin)}.",
        "alg NONE with a signature": f"{b64({'alg': 'NONE'})}.{b64(admin)}.{b64(b'x' * 32)}",
        # HS -> RS switching: an RS256 header the server must not even try to verify.
        "alg RS256": f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64(admin)}.{b64(bytes(256))}",
        "alg ES256": f"{b64({'alg': 'ES256', 'typ': 'JWT'})}.{b64(admin)}.{b64(bytes(64))}",
        # Switching inside the HMAC family with the right secret is still refused.
        "alg HS512 right secret": hmac_token(secret, {"alg": "HS512", "typ": "JWT"}, claims,
                                             hashlib.sha512),
        "alg HS384 right secret": hmac_token(secret, {"alg": "HS384", "typ": "JWT"}, claims,
                                             hashlib.sha384),
        "wrong key": jwt.encode(admin, "not-the-secret-" * 4, algorithm="HS256"),
        "empty key": hmac_token("", {"alg": "HS256", "typ": "JWT"}, admin),
        "expired": jwt.encode(claims_for(user, iat=int(time.time()) - 7200,
                                         exp=int(time.time()) - 3600), secret, algorithm="HS256"),
        "no exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, secret,
                             algorithm="HS256"),
        "no sub": jwt.encode({k: v for k, v in claims.items() if k != "sub"}, secret,
                             algorithm="HS256"),
        "sub not a number": jwt.encode(claims_for(user, sub="1 OR 1=1"), secret,
                                       algorithm="HS256"),
        "tampered is_admin": tampered(valid, is_admin=True),
        "tampered sub": tampered(valid, sub=str(user["id"] + 1)),
        "tampered exp": tampered(valid, exp=int(time.time()) + 10**8),
        "signature stripped": valid.rsplit(".", 1)[0] + ".",
        "two segments": valid.rsplit(".", 1)[0],
        "garbage": "a.b.c",
    }


def bearer_of(user):
    return {"Authorization": f"Bearer {user['token']}"}


PROTECTED = [("POST", "/api/posts/"), ("POST", "/api/comments/"),
             ("GET", "/api/notifications/"), ("GET", "/api/analytics/posts/stats/"
                                                     "?start_date=2026-01-01&end_date=2026-01-02")]


def test_forged_tokens_are_401_everywhere(api, config, register):
    """Every route is built (the gateway routes all five services whether or not one is
    deployed, and authentication answers before any RPC), so every request is checked."""
    user = register("jwt")
    routes = PROTECTED + [("GET", f"/api/users/profile/{user['id']}/")]
    tokens = forged_tokens(config, user)
    checked = 0
    for name, token in tokens.items():
        for method, path in routes:
            resp = api(method, path, headers={"Authorization": f"Bearer {token}"})
            # Each is a well-formed "Bearer <something>" header: the token itself is refused.
            got = (resp.status_code, resp.json()["error"]["code"])
            assert got == (401, "invalid_token"), (name, method, path, resp.text)
            assert resp.headers["WWW-Authenticate"].startswith("Bearer"), name
            checked += 1
    print(f"\njwt: {len(tokens)} forged tokens x {len(routes)} routes -> {checked} requests, all 401")
    assert checked == len(tokens) * len(routes)


@pytest.mark.parametrize("header,code", [
    ("Basic dXNlcjpwYXNz", "invalid_authorization_header"),
    ("Bearer", "invalid_authorization_header"), ("Bearer ", "invalid_authorization_header"),
    ("Token abc", "invalid_authorization_header"), ("bearer", "invalid_authorization_header"),
    # The scheme is right; "a b c" is then the token, and it is not a JWT.
    ("Bearer a b c", "invalid_token")])
def test_malformed_authorization_headers_are_401(api, register, header, code):
    user = register("hdr")
    resp = api("GET", f"/api/users/profile/{user['id']}/", headers={"Authorization": header})
    assert (resp.status_code, resp.json()["error"]["code"]) == (401, code), resp.text
    assert "Bearer" in resp.headers["WWW-Authenticate"]


def test_genuine_token_still_works_and_claims_are_not_trusted_from_the_body(api, config, register):
    """The control: the same requests with a genuine token pass, and the identity is the
    token's, whatever the body claims."""
    user, other = register("ctl"), register("ctl_other")
    token = issue_token(config, user["id"], user["username"], False)
    auth = {"Authorization": f"Bearer {token}"}
    own = api("GET", f"/api/users/profile/{user['id']}/", headers=auth)
    assert own.status_code == 200 and own.json()["email"] == user["email"]
    # The body names someone else as author (and claims admin): the token's user it is.
    post = api("POST", "/api/posts/", headers=auth,
               files={"title": (None, "mine"), "content": (None, "body"),
                      "author": (None, str(other["id"])), "user_id": (None, str(other["id"])),
                      "is_admin": (None, "true")})
    assert post.status_code == 201 and post.json()["author"] == user["id"], post.text
    comment = api("POST", "/api/comments/", headers=auth,
                  json={"post_id": post.json()["id"], "content": "hi", "author": other["id"],
                        "author_id": other["id"], "user_id": other["id"]})
    assert comment.status_code == 201 and comment.json()["author"] == user["id"], comment.text
    # The claimed admin rights did not come along: another user's post stays theirs.
    theirs = api("POST", "/api/posts/", headers=bearer_of(other),
                 files={"title": (None, "theirs"), "content": (None, "body")}).json()
    resp = api("DELETE", f"/api/posts/{theirs['id']}/", headers=auth, json={"is_admin": True})
    assert (resp.status_code, resp.json()["error"]["code"]) == (403, "not_post_author")

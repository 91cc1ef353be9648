"""The gateway's /api/users/me/ and /api/users/me/avatar/ with a fake RPC client: who is
asked what with which priority, the composition of "me", the avatar upload's limits and
clean-up."""
import os

import pytest

from contracts.errors import InvalidImage, UserAlreadyExists
from imageboard.tokens import issue_token
from tests.imagefiles import png_of_exact_size
from tests.unit.gateway_fakes import grant_admin
from tests.unit.test_posts_gateway_unit import leftover_uploads, multipart, upload_dir

FIVE_MB = 5 * 1024 * 1024


@pytest.fixture
def config(tmp_path):
    return {"JWT_SECRET": "k" * 32, "JWT_LIFETIME_SECONDS": 60,
            "SERVICES": ["users", "posts", "comments"],
            "MEDIA_ROOT": str(tmp_path / "media"), "MEDIA_URL": "/media/",
            "MAX_IMAGE_BYTES": FIVE_MB}


@pytest.fixture
def gateway_config(config):
    return config


def auth(user_id=7):
    token = issue_token({"JWT_SECRET": "k" * 32, "JWT_LIFETIME_SECONDS": 60}, user_id, "alice",
                        False)
    return {"Authorization": f"Bearer {token}"}


def account(user_id=7, avatar=None, **changes):
    """What the users service answers for "me" (services/users/profiles.py me_fields)."""
    return dict({"id": user_id, "username": "alice", "first_name": "", "last_name": "",
                 "bio": "", "avatar_url": f"/media/{avatar}" if avatar else None,
                 "created_at": "2026-11-01T09:00:00+00:00", "email": "alice@example.com",
                 "is_admin": True}, **changes)


def counted(rpc):
    rpc.answers[("posts", "count_by_author")] = 2
    rpc.answers[("comments", "count_by_author")] = 5


def test_get_me_composes_the_account_counts_and_ban_in_one_round(client, rpc):
    rpc.answers[("users", "get_me")] = lambda user_id: account(user_id, avatar="9c_avatar.png")
    counted(rpc)
    resp = client.simulate_get("/api/users/me/", headers=auth(7))
    assert resp.status_code == 200
    # is_admin is what the access state says (no grant here), not the stored flag's True
    assert resp.json == dict(account(7), posts_count=2, comments_count=5, ban=None,
                             is_admin=False,
                             avatar_url="http://falconframework.org/media/9c_avatar.png")
    assert rpc.calls == [("users", "get_me", (7,)), ("posts", "count_by_author", (7,)),
                         ("comments", "count_by_author", (7,))]
    assert rpc.writes == set()


def test_me_shows_rights_and_the_ban_as_the_access_state_holds_them(client, rpc, access):
    rpc.answers[("users", "get_me")] = lambda user_id: account(user_id, is_admin=False)
    counted(rpc)
    grant_admin(access, 7)
    access.apply("users", {"kind": "ban", "user_id": 7, "reason": "spam",
                           "created_at": "2026-11-27T14:00:00+00:00", "expires_at": None})
    resp = client.simulate_get("/api/users/me/", headers=auth(7))
    assert resp.status_code == 200
    assert resp.json["is_admin"] is True
    assert resp.json["ban"] == {"reason": "spam", "created_at": "2026-11-27T14:00:00+00:00",
                                "expires_at": None}


def test_patch_is_a_write_with_the_body_as_sent(client, rpc):
    rpc.answers[("users", "update_me")] = lambda user_id, body: account(user_id, bio=body["bio"])
    counted(rpc)
    resp = client.simulate_patch("/api/users/me", json={"bio": "hi", "username": "x"},
                                 headers=auth(7))
    assert resp.status_code == 200 and resp.json["bio"] == "hi" and resp.json["ban"] is None
    assert resp.json["posts_count"] == 2
    assert rpc.calls[0] == ("users", "update_me", (7, {"bio": "hi", "username": "x"}))
    assert rpc.writes == {("users", "update_me")}


def test_patch_errors_come_back_with_their_status(client, rpc):
    rpc.answers[("users", "update_me")] = UserAlreadyExists(fields={"email": "taken"})
    resp = client.simulate_patch("/api/users/me/", json={"email": "a@b.c"}, headers=auth())
    assert resp.status_code == 400 and resp.json["error"]["code"] == "user_exists"
    bad = client.simulate_patch("/api/users/me/", body=b"[1, 2]", headers=auth())
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_me_needs_a_token(client, rpc, method):
    resp = client.simulate_request(method, "/api/users/me/", json={"bio": "x"})
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert rpc.calls == []


def _capture(config, seen):
    def answer(user_id, upload):
        with open(os.path.join(upload_dir(config), upload), "rb") as fh:
            seen.append(fh.read())
        return account(user_id, avatar="new_avatar.png")
    return answer


def test_avatar_of_exactly_5_mb_reaches_the_service_by_name_and_is_cleaned_up(client, rpc, config):
    image, seen = png_of_exact_size(FIVE_MB), []
    rpc.answers[("users", "set_avatar")] = _capture(config, seen)
    counted(rpc)
    body, headers = multipart({"note": "ignored"}, [("avatar", "a.png", image)])
    resp = client.simulate_put("/api/users/me/avatar/", body=body, headers=dict(headers, **auth(7)))
    assert resp.status_code == 200, resp.text
    assert resp.json["avatar_url"] == "http://falconframework.org/media/new_avatar.png"
    assert seen == [image] and rpc.writes == {("users", "set_avatar")}
    assert leftover_uploads(config) == []


def test_avatar_one_byte_over_5_mb_is_413_without_calling_the_service(client, rpc, config):
    body, headers = multipart({}, [("avatar", "a.png", png_of_exact_size(FIVE_MB + 1))])
    resp = client.simulate_put("/api/users/me/avatar/", body=body, headers=dict(headers, **auth()))
    assert resp.status_code == 413 and resp.json["error"]["code"] == "image_too_large"
    assert rpc.calls == [] and leftover_uploads(config) == []


@pytest.mark.parametrize("fields,files", [
    ({"title": "other fields are drained"}, [("image", "a.png", b"png")]),
    ({}, [("avatar", "a.png", b"")]),   # a browser form with no file chosen
])
def test_avatar_without_a_file_part_is_400_missing_fields(client, rpc, config, fields, files):
    body, headers = multipart(fields, files)
    resp = client.simulate_put("/api/users/me/avatar/", body=body, headers=dict(headers, **auth()))
    assert resp.status_code == 400 and resp.json["error"]["code"] == "missing_fields"
    assert rpc.calls == [] and leftover_uploads(config) == []


def test_avatar_json_body_is_400_missing_fields(client, rpc):
    resp = client.simulate_put("/api/users/me/avatar/", json={"avatar": "x.png"}, headers=auth())
    assert resp.status_code == 400 and resp.json["error"]["fields"] == {
        "avatar": "This field is required."}
    assert rpc.calls == []


def test_a_refused_image_leaves_no_upload_behind(client, rpc, config):
    rpc.answers[("users", "set_avatar")] = InvalidImage()
    body, headers = multipart({}, [("avatar", "a.png", b"not an image")])
    resp = client.simulate_put("/api/users/me/avatar/", body=body, headers=dict(headers, **auth()))
    assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_image"
    assert leftover_uploads(config) == []


def test_delete_avatar_is_a_write_and_204(client, rpc):
    rpc.answers[("users", "remove_avatar")] = None
    resp = client.simulate_delete("/api/users/me/avatar/", headers=auth(9))
    assert resp.status_code == 204 and resp.content == b""
    assert rpc.calls == [("users", "remove_avatar", (9,))]
    assert rpc.writes == {("users", "remove_avatar")}

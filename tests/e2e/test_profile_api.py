"""The caller's own account over HTTP against the running stack (contract v2 §6.2):
GET/PATCH /api/users/me/, PUT/DELETE /api/users/me/avatar/, bio and avatar_url in
profiles, and the user.updated events on Kafka."""
import io
import json
import os
from urllib.parse import urlparse

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from PIL import Image

from tests.e2e.conftest import bearer
from tests.imagefiles import GPS_IFD, gif_bytes, jpeg_bytes, png_bomb, png_of_exact_size
from tests.integration.kafka_support import read_topic

pytestmark = pytest.mark.e2e
FIVE_MB = 5 * 1024 * 1024
ME = "/api/users/me/"
AVATAR = "/api/users/me/avatar/"
RED, GREEN = (220, 20, 20), (20, 200, 40)


def upload(api, user, data, name="a.png", part="avatar"):
    return api("PUT", AVATAR, headers=bearer(user),
               files={part: (name, data, "application/octet-stream")})


def assert_error(resp, status, code):
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code, resp.text


def media_files():
    root = os.environ["MEDIA_ROOT"]
    return set(os.listdir(root)) if os.path.isdir(root) else set()


def stored(api, me):
    """(file name, decoded image, raw bytes) of the avatar me points at, as served."""
    url = urlparse(me["avatar_url"])
    resp = api("GET", url.path)
    assert resp.status_code == 200, resp.text
    return os.path.basename(url.path), Image.open(io.BytesIO(resp.content)), resp.content


def banded(size, fmt, centre=GREEN, sides=RED, exif=None):
    """An image whose centre square (and a margin of 5% around it, for the resampling
    filter's reach) is `centre` and the rest `sides`: a centre crop keeps only the centre
    colour, anything else shows `sides` in a corner."""
    width, height = size
    image = Image.new("RGB", size, sides)
    edge = min(size)
    margin = edge // 20
    left, top = (width - edge) // 2 - margin, (height - edge) // 2 - margin
    image.paste(centre, (max(left, 0), max(top, 0), min(left + edge + 2 * margin, width),
                         min(top + edge + 2 * margin, height)))
    out = io.BytesIO()
    image.save(out, fmt, **({"exif": exif.tobytes()} if exif is not None else {}))
    return out.getvalue()


def camera_exif():
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)})
    return exif


def near(pixel, colour, slack=40):
    return all(abs(a - b) <= slack for a, b in zip(pixel[:3], colour))


def test_me_is_the_profile_plus_email_is_admin_and_ban(api, register):
    user = register("me", first_name="Ann")
    resp = api("GET", ME, headers=bearer(user))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "id": user["id"], "username": user["username"], "first_name": "Ann", "last_name": "",
        "bio": "", "avatar_url": None, "created_at": user["created_at"], "posts_count": 0,
        "comments_count": 0, "email": user["email"], "is_admin": False, "ban": None}
    public = api("GET", f"/api/users/profile/{user['id']}/").json()
    assert public["bio"] == "" and public["avatar_url"] is None and "email" not in public
    for method, path in (("GET", ME), ("PATCH", ME), ("PUT", AVATAR), ("DELETE", AVATAR)):
        assert_error(api(method, path), 401, "not_authenticated")


def test_me_shows_the_stored_admin_flag(api, register, config):
    user = register("adm")
    with ClusterRpcProxy(config, timeout=10) as rpc:
        rpc.users.set_admin(user["username"])
    # the token still says is_admin false; "me" tells the stored flag
    assert api("GET", ME, headers=bearer(user)).json()["is_admin"] is True


@pytest.mark.parametrize("field,value,shown", [
    ("first_name", "  Anna  ", "Anna"),
    ("last_name", "Lee", "Lee"),
    ("bio", "Painter.\nLikes cats.", "Painter.\nLikes cats."),
    ("email", "  New.Address@Example.com ", "New.Address@example.com"),
])
def test_patch_changes_each_field_and_answers_me(api, register, field, value, shown, unique):
    user = register("pat")
    if field == "email":
        value = value.replace("New.Address", f"New.{unique}")
        shown = shown.replace("New.Address", f"New.{unique}")
    resp = api("PATCH", ME, headers=bearer(user),
               json={field: value, "username": "renamed", "is_admin": True, "id": 1})
    assert resp.status_code == 200, resp.text
    me = resp.json()
    assert me[field] == shown
    # username and other fields are ignored
    assert (me["username"], me["is_admin"], me["id"]) == (user["username"], False, user["id"])
    assert api("GET", ME, headers=bearer(user)).json() == me
    public = api("GET", f"/api/users/profile/{user['id']}/").json()
    if field != "email":
        assert public[field] == shown
    assert "email" not in public


def test_an_email_another_account_has_is_400_user_exists(api, register, unique):
    alice, bob = register("ea"), register("eb")
    taken = api("PATCH", ME, headers=bearer(bob), json={"email": alice["email"].upper(),
                                                        "bio": "never saved"})
    assert_error(taken, 400, "user_exists")
    assert taken.json()["error"]["fields"] == {"email": "A user with this email already exists."}
    assert api("GET", ME, headers=bearer(bob)).json()["bio"] == ""  # nothing changed
    # an email is free again once its owner moved on, and one's own in another case is fine
    moved = api("PATCH", ME, headers=bearer(alice), json={"email": f"moved_{unique}@example.com"})
    assert moved.status_code == 200, moved.text
    assert api("PATCH", ME, headers=bearer(bob), json={"email": alice["email"]}).status_code == 200
    local = alice["email"].split("@")[0].upper()
    same = api("PATCH", ME, headers=bearer(bob), json={"email": f"{local}@example.com"})
    assert same.status_code == 200 and same.json()["email"] == f"{local}@example.com"
    registration = api("POST", "/api/users/register/", json={
        "username": f"late_{unique}", "email": alice["email"], "password": "password1"})
    assert_error(registration, 400, "user_exists")


@pytest.mark.parametrize("body", [{}, {"username": "new_name"}, {"bio": None},
                                  {"avatar": "x.png", "is_admin": True}])
def test_patch_without_an_editable_field_is_400_missing_fields(api, register, body):
    assert_error(api("PATCH", ME, headers=bearer(register("mf")), json=body), 400,
                 "missing_fields")


@pytest.mark.parametrize("body,field", [
    ({"bio": "x" * 501}, "bio"),
    ({"first_name": "x" * 151}, "first_name"),
    ({"last_name": 5}, "last_name"),
    ({"email": "not-an-address"}, "email"),
    ({"bio": "nul\x00byte"}, "bio"),
])
def test_patch_with_invalid_values_is_422(api, register, body, field):
    resp = api("PATCH", ME, headers=bearer(register("iv")), json=body)
    assert_error(resp, 422, "validation_error")
    assert list(resp.json()["error"]["fields"]) == [field]


def test_limits_are_inclusive(api, register):
    user = register("lim")
    resp = api("PATCH", ME, headers=bearer(user), json={"bio": "b" * 500, "last_name": "l" * 150})
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["bio"]) == 500 and len(resp.json()["last_name"]) == 150


def test_patch_body_must_be_json(api, register):
    resp = api("PATCH", ME, headers=dict(bearer(register("js")), **{"Content-Type": "application/json"}),
               data=b"{nope")
    assert_error(resp, 400, "invalid_json")


def test_jpeg_avatar_loses_its_exif_and_becomes_256_square(api, register):
    user = register("jpg")
    original = banded((900, 600), "JPEG", exif=camera_exif())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the control
    resp = upload(api, user, original, name="photo.jpg")
    assert resp.status_code == 200, resp.text
    me = resp.json()
    assert me["avatar_url"].startswith("http") and me["avatar_url"].endswith("_avatar.jpg")
    assert set(me) == set(api("GET", ME, headers=bearer(user)).json())
    name, image, raw = stored(api, me)
    assert image.format == "JPEG" and image.size == (256, 256)
    assert len(image.getexif()) == 0 and b"Exif" not in raw and b"SpyCam" not in raw
    # the centre square only: the red overhang left and right is cut off
    for xy in ((0, 0), (255, 0), (0, 255), (255, 255), (128, 128)):
        assert near(image.getpixel(xy), GREEN), xy
    assert api("GET", f"/api/users/profile/{user['id']}/").json()["avatar_url"] == me["avatar_url"]
    assert name in media_files()


def test_png_avatar_with_exif_is_cropped_from_a_tall_image(api, register):
    user = register("png")
    original = banded((400, 1000), "PNG", exif=camera_exif())
    assert Image.open(io.BytesIO(original)).getexif()  # the control: eXIf chunk present
    me = upload(api, user, original).json()
    name, image, raw = stored(api, me)
    assert name.endswith("_avatar.png") and image.format == "PNG" and image.size == (256, 256)
    assert len(image.getexif()) == 0 and b"eXIf" not in raw and b"SpyCam" not in raw
    assert image.getpixel((0, 0))[:3] == GREEN and image.getpixel((255, 255))[:3] == GREEN


def test_small_avatar_is_cropped_but_never_enlarged(api, register):
    user = register("small")
    me = upload(api, user, banded((120, 80), "PNG")).json()
    _, image, _ = stored(api, me)
    assert image.size == (80, 80)
    assert {image.getpixel((x, y))[:3] for x in range(80) for y in range(80)} == {GREEN}


def test_replacing_and_removing_the_avatar_deletes_the_old_file(api, register):
    user = register("swap")
    first, _, _ = stored(api, upload(api, user, banded((300, 300), "PNG")).json())
    second_me = upload(api, user, banded((300, 300), "JPEG"), name="b.jpg").json()
    second, _, _ = stored(api, second_me)
    assert first != second
    files = media_files()
    assert second in files and first not in files
    assert api("GET", f"/media/{first}").status_code == 404
    for _ in range(2):  # 204 also without an avatar
        resp = api("DELETE", AVATAR, headers=bearer(user))
        assert resp.status_code == 204 and resp.content == b""
    assert second not in media_files()
    assert api("GET", ME, headers=bearer(user)).json()["avatar_url"] is None
    assert api("GET", f"/api/users/profile/{user['id']}/").json()["avatar_url"] is None


def test_avatar_too_large_is_413_and_changes_nothing(api, register):
    user = register("big")
    before = upload(api, user, banded((64, 64), "PNG")).json()
    assert_error(upload(api, user, png_of_exact_size(FIVE_MB + 1)), 413, "image_too_large")
    assert api("GET", ME, headers=bearer(user)).json()["avatar_url"] == before["avatar_url"]


@pytest.mark.parametrize("data,code", [
    (gif_bytes(), "invalid_image"),
    (b"plain text, not an image", "invalid_image"),
    (jpeg_bytes((400, 400))[:600], "invalid_image"),     # truncated
    (png_bomb(), "image_too_many_pixels"),
])
def test_invalid_avatar_images_are_400_with_their_code(api, register, data, code):
    """v1 decision 10 (v2 §6.2 applies it): anything but a sane JPEG/PNG is 400."""
    user = register("bad")
    before = media_files()
    assert_error(upload(api, user, data), 400, code)
    assert api("GET", ME, headers=bearer(user)).json()["avatar_url"] is None
    assert {n for n in media_files() - before if "_avatar." in n} == set()


@pytest.mark.parametrize("kind", ["other part", "empty part", "json", "no body"])
def test_avatar_without_its_part_is_400_missing_fields(api, register, kind):
    user = register("nopart")
    if kind == "other part":
        resp = upload(api, user, banded((64, 64), "PNG"), part="image")
    elif kind == "empty part":
        resp = upload(api, user, b"")
    elif kind == "json":
        resp = api("PUT", AVATAR, headers=bearer(user), json={"avatar": "x.png"})
    else:
        resp = api("PUT", AVATAR, headers=bearer(user))
    assert_error(resp, 400, "missing_fields")
    assert resp.json()["error"]["fields"] == {"avatar": "This field is required."}


def test_two_avatar_parts_are_400(api, register):
    user = register("two")
    png = banded((64, 64), "PNG")
    resp = api("PUT", AVATAR, headers=bearer(user),
               files=[("avatar", ("a.png", png)), ("avatar", ("b.png", png))])
    assert_error(resp, 400, "invalid_form")


def test_user_updated_events_name_the_changes_never_an_email(api, register, config, unique):
    user = register("ev")
    old_email, new_email = user["email"], f"ev_new_{unique}@example.com"
    me = bearer(user)
    assert api("PATCH", ME, headers=me, json={"bio": "hello", "first_name": ""}).status_code == 200
    # first_name was already "": only bio changed; the repeat changes nothing, no event
    assert api("PATCH", ME, headers=me, json={"bio": "hello"}).status_code == 200
    assert api("PATCH", ME, headers=me, json={"email": new_email}).status_code == 200
    name, _, _ = stored(api, upload(api, user, banded((64, 64), "PNG")).json())
    assert api("DELETE", AVATAR, headers=me).status_code == 204
    assert api("DELETE", AVATAR, headers=me).status_code == 204       # nothing to remove
    assert api("PATCH", ME, headers=me, json={"last_name": "Last", "bio": "hello"}).status_code == 200

    events = [e for _, e in read_topic(
        config, "user-events", 5,
        keep=lambda e: e["key"] == str(user["id"]) and e["type"] == "user.updated")]
    # in order per key; the last is the last change, so no-op PATCH/DELETE sent nothing
    assert [(e["payload"]["fields"], e["payload"]["avatar"]) for e in events] == [
        (["bio"], None), (["email"], None), (["avatar"], name), (["avatar"], None),
        (["last_name"], None)]
    for event in events:
        assert event["payload"]["user_id"] == user["id"] == event["actor_id"]
        assert event["payload"]["username"] == user["username"] and event["version"] == 1
        raw = json.dumps(event).lower()
        assert old_email.lower() not in raw and new_email.lower() not in raw and "@" not in raw

"""Injection attempts in ordering, filters, ids, dates and credentials, and hostile
bodies (oversized, deeply nested, binary, NUL bytes): always a clear JSON 4xx, never a
5xx, and the data is untouched afterwards."""
import pytest

from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e

SQL = ["created_at; DROP TABLE posts;--", "created_at,(SELECT pg_sleep(5))", "id", "title",
       "-created_at, id", "likes_count DESC", "(case when 1=1 then id end)", "created_at'--",
       "1", "-", "--created_at", "likes_count%00", "created_at\u0000", "ＣＲＥＡＴＥＤ_AT"]


def needs(config, service):
    if service not in config["SERVICES"]:
        pytest.skip(f"the {service} service is not deployed")


def assert_error(resp, status, code):
    """Exactly the status and the error code the contract and contracts/errors.py name, in
    the one error body {"error": {"code", "message", "fields"?}}."""
    assert resp.headers["Content-Type"].startswith("application/json"), resp.text[:300]
    body = resp.json()
    got = (resp.status_code, body.get("error", {}).get("code"))
    assert got == (status, code), (resp.request.url, got, resp.text[:300])
    assert set(body) == {"error"} and set(body["error"]) <= {"code", "message", "fields"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize("ordering", SQL)
def test_ordering_injection_is_400(api, ordering):
    resp = api("GET", "/api/posts/", params={"ordering": ordering})
    assert_error(resp, 400, "invalid_ordering")


def test_feed_survives_the_injection_attempts(api, register, new_post):
    user = register("inj")
    post = new_post(user, title="Robert'); DROP TABLE posts;--", content="' OR '1'='1")
    before = api("GET", "/api/posts/").json()["count"]
    for ordering in SQL:
        assert_error(api("GET", "/api/posts/", params={"ordering": ordering}), 400,
                     "invalid_ordering")
    detail = api("GET", f"/api/posts/{post['id']}/").json()
    # Stored as data, verbatim, and nothing was dropped or added by the attempts.
    assert (detail["title"], detail["content"]) == ("Robert'); DROP TABLE posts;--", "' OR '1'='1")
    assert api("GET", "/api/posts/").json()["count"] == before


@pytest.mark.parametrize("query", [
    {"page": "1 OR 1=1"}, {"page": "1;--"}, {"limit": "20) UNION SELECT 1--"},
    {"limit": "-1"}, {"page": "0"}, {"page": "1e3"}, {"limit": "101"}, {"page": "0x10"},
    {"page": "9" * 40},
])
def test_pagination_injection_is_400(api, query):
    assert_error(api("GET", "/api/posts/", params=query), 400, "invalid_pagination")


@pytest.mark.parametrize("post_id", ["1 OR 1=1", "1;--", "1' OR '1'='1", "-1", "0",
                                     "99999999999999999999", "[1]", "", "null"])
def test_comment_filter_injection_is_400(api, post_id):
    """None of these is a positive bigint, so none is looked up: 400, never a 404."""
    resp = api("GET", "/api/comments/", params={"post_id": post_id})
    assert_error(resp, 400, "invalid_post_id")


@pytest.mark.parametrize("path,code", [
    # Not an integer: no route matches.
    ("/api/posts/1%20OR%201=1/", "not_found"), ("/api/posts/1;DROP/", "not_found"),
    ("/api/users/profile/1'--/", "not_found"),
    # An integer past bigint: the route matches and the service finds nothing (no 500).
    ("/api/posts/99999999999999999999/", "post_not_found"),
    ("/api/users/profile/99999999999999999999/", "user_not_found"),
])
def test_path_id_injection_is_404(api, path, code):
    assert_error(api("GET", path), 404, code)


@pytest.mark.parametrize("params", [
    {"start_date": "2026-01-01' OR 1=1--", "end_date": "2026-01-31"},
    {"start_date": "2026-01-01", "end_date": "today()"},
    {"start_date": "2026-01-01); DROP TABLE post_events;--", "end_date": "2026-01-31"},
    {"start_date": "2026-13-01", "end_date": "2026-01-31"},
    {"start_date": "2026-01-01", "end_date": "2026-01-31\u0000"},
])
def test_analytics_date_injection_is_400(api, config, register, admin_of, params):
    needs(config, "analytics")
    resp = api("GET", "/api/analytics/posts/stats/", params=params, headers=admin_of(register("a")))
    assert_error(resp, 400, "invalid_period")


@pytest.mark.parametrize("user_id", ["1 OR 1=1", "1;--", "-1", "abc", "0", "99999999999999999999"])
def test_user_activity_filter_injection_is_400(api, config, register, user_id):
    needs(config, "analytics")
    resp = api("GET", "/api/analytics/user-activity/", params={"user_id": user_id},
               headers=bearer(register("ua")))
    assert_error(resp, 400, "invalid_user_id")


@pytest.mark.parametrize("unread_only", ["true' OR '1'='1", "yes; DROP", "TRUE--", "2"])
def test_notification_filter_injection_is_400(api, config, register, unread_only):
    needs(config, "notifications")
    resp = api("GET", "/api/notifications/", params={"unread_only": unread_only},
               headers=bearer(register("nf")))
    assert_error(resp, 400, "invalid_unread_only")


@pytest.mark.parametrize("username", ["admin' OR '1'='1", "' OR 1=1--", "admin'--",
                                      '{"$gt": ""}', "*"])
def test_login_injection_is_401(api, register, username):
    register("victim")
    resp = api("POST", "/api/users/login/", json={"username": username, "password": "' OR '1'='1"})
    assert_error(resp, 401, "invalid_credentials")


def test_login_with_operator_objects_is_422(api):
    """Present but of the wrong type: 422 (decision 1), naming both fields."""
    resp = api("POST", "/api/users/login/", json={"username": {"$ne": None}, "password": {"$ne": 1}})
    assert_error(resp, 422, "validation_error")
    assert set(resp.json()["error"]["fields"]) == {"username", "password"}


@pytest.mark.parametrize("path", ["/api/users/register/", "/api/users/login/", "/api/comments/"])
def test_oversized_json_body_is_413(api, register, path):
    user = register("big")
    body = b'{"content": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    resp = api("POST", path, data=body, headers={**bearer(user), "Content-Type": "application/json"})
    assert_error(resp, 413, "payload_too_large")


def test_oversized_chunked_body_is_413(api, register):
    """Chunked (no Content-Length): the gateway reads the decoded stream only just past its
    64 KB JSON limit, so it refuses the 1 MB body with 413 without buffering it. (Once
    chunked JSON bodies were read as empty and got a 400: gateway/media.py json_body.)"""
    user = register("chunk")

    def chunks():
        yield b'{"post_id": 1, "content": "'
        for _ in range(64):
            yield b"x" * 16384
        yield b'"}'
    resp = api("POST", "/api/comments/", data=chunks(),
               headers={**bearer(user), "Content-Type": "application/json"})
    assert resp.request.headers.get("Transfer-Encoding") == "chunked"  # the control
    assert_error(resp, 413, "payload_too_large")


# Bodies under the 64 KB JSON limit, so the parser itself is exercised. 100 levels parse
# (an array is not an object: invalid_json; nested objects lack the required fields:
# missing_fields); 10,000 levels are past any recursion limit of the parser: invalid_json.
# (1,000 would depend on how deep the gateway's own stack happens to be.)
@pytest.mark.parametrize("depth,array_code,object_code", [
    (100, "invalid_json", "missing_fields"), (10_000, "invalid_json", "invalid_json")])
@pytest.mark.parametrize("path", ["/api/users/register/", "/api/comments/"])
def test_deeply_nested_json_is_400(api, register, path, depth, array_code, object_code):
    user = register("deep")
    for body, code in (("[" * depth + "]" * depth, array_code),
                       ('{"a":' * depth + "1" + "}" * depth, object_code)):
        assert len(body) < 64 * 1024
        resp = api("POST", path, data=body.encode(),
                   headers={**bearer(user), "Content-Type": "application/json"})
        assert_error(resp, 400, code)
    assert api("GET", "/health").status_code == 200


def test_nested_values_inside_fields_are_422(api, register, new_post):
    user = register("nest")
    post = new_post(user)
    nested = {"a": [{"b": [1, 2, {"c": None}]}] * 50}
    resp = api("POST", "/api/comments/", json={"post_id": post["id"], "content": nested},
               headers=bearer(user))
    assert_error(resp, 422, "validation_error")
    assert set(resp.json()["error"]["fields"]) == {"content"}
    resp = api("POST", "/api/comments/", json={"post_id": [post["id"]], "content": "x"},
               headers=bearer(user))
    assert_error(resp, 422, "validation_error")
    assert set(resp.json()["error"]["fields"]) == {"post_id"}
    assert api("GET", "/api/comments/", params={"post_id": post["id"]}).json() == []


# Not JSON, or JSON that is not an object: 400 invalid_json. JSON objects that Python's
# parser takes (NaN, an overflowing number, a lone surrogate) but without the required
# fields: 400 missing_fields.
@pytest.mark.parametrize("body,code", [
    (b"\xff\xfe\x00garbage", "invalid_json"), (b"\x00" * 100, "invalid_json"),
    (b"null", "invalid_json"), (b"[]", "invalid_json"), (b"42", "invalid_json"),
    (b'"string"', "invalid_json"), (b"{'single': 'quotes'}", "invalid_json"),
    (b'{"a": NaN}', "missing_fields"), (b'{"a": 1e999999}', "missing_fields"),
    (b'{"content": "\\ud800"}', "missing_fields")])
def test_garbage_bodies_are_400(api, register, body, code):
    user = register("garb")
    resp = api("POST", "/api/comments/", data=body,
               headers={**bearer(user), "Content-Type": "application/json"})
    assert_error(resp, 400, code)


@pytest.mark.parametrize("field", ["content", "title"])
def test_nul_bytes_and_odd_unicode_never_reach_a_5xx(api, register, new_post, field):
    """PostgreSQL refuses NUL in text: the API must refuse it first (or store it safely)."""
    user = register("nul")
    post = new_post(user)
    hostile = "abc\u0000def\u202e\ufeff\U0001F600"
    if field == "content":
        resp = api("POST", "/api/comments/", json={"post_id": post["id"], "content": hostile},
                   headers=bearer(user))
    else:
        resp = api("POST", "/api/posts/", headers=bearer(user),
                   files={"title": (None, hostile), "content": (None, "c")})
    assert_error(resp, 422, "validation_error")
    assert set(resp.json()["error"]["fields"]) == {field}
    reg = api("POST", "/api/users/register/",
              json={"username": f"nul_{post['id']}", "email": f"nul{post['id']}@example.com",
                    "password": "password1", "first_name": hostile})
    assert_error(reg, 422, "validation_error")
    assert set(reg.json()["error"]["fields"]) == {"first_name"}


def test_request_id_header_injection_is_replaced(api):
    resp = api("GET", "/health", headers={"X-Request-ID": "abc\tinjected: yes"})
    assert resp.headers["X-Request-ID"] != "abc\tinjected: yes"
    assert "injected" not in resp.headers


# Found by the admin fuzzing pass: a period ending before 1970 reached ClickHouse as
# '474-06-01' (unpadded year) -> 'Cannot parse date' -> HTTP 500.
@pytest.mark.parametrize("start,end", [("0474-06-01", "0474-06-01"), ("0001-01-01", "0001-01-01"),
                                       ("9999-12-31", "9999-12-31")])
def test_analytics_dates_outside_clickhouse_range_are_an_empty_200(api, config, register,
                                                                   admin_of, start, end):
    """Well-formed dates, end not before start: a valid period (decision 9) with no posts."""
    needs(config, "analytics")
    resp = api("GET", "/api/analytics/posts/stats/", headers=admin_of(register("old")),
               params={"start_date": start, "end_date": end})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["period"] == {"start_date": start, "end_date": end}
    assert (body["total_posts"], body["posts_per_day"], body["most_active_users"]) == (0, 0.0, [])
    assert body["likes_statistics"] == {"total_likes": 0, "avg_likes_per_post": 0.0,
                                        "most_liked_post": None}

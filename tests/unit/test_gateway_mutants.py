"""The gateway's authentication middleware and hooks (gateway/auth.py), its one map from
errors to HTTP (gateway/errors.py) and the pagination rules at the edge and in the kernel
(gateway/pagination.py, imageboard/pagination.py), each decision checked exactly: the
status, the error code, the message, the header. Written to kill the mutants mutmut left
alive (`make mutate`, docs/robustness.md "Mutation testing")."""
import logging
import time
from types import SimpleNamespace

import falcon
import falcon.testing
import jwt
import pytest

from contracts import errors
from gateway import errors as gateway_errors
from gateway.auth import AuthMiddleware, AuthUser, require_admin, require_user
from gateway.errors import (STATUS_BY_ERROR, error_body, handle_domain_error, handle_http_error,
                            handle_unexpected, register_error_handlers, status_for)
from gateway.pagination import (Page, envelope, neighbours, page_url, parse_page, query_int,
                                set_list_headers)
from gateway.rpc import ServiceTimeout
from imageboard.pagination import MAX_PAGE, check_page, is_id
from imageboard.tokens import issue_token
from tests.unit.gateway_fakes import access_state

SECRET = "s" * 32
CONFIG = {"JWT_SECRET": SECRET, "JWT_LIFETIME_SECONDS": 60}


# -- auth --------------------------------------------------------------------------------------

def request(header=None):
    return SimpleNamespace(get_header=lambda name: header if name == "Authorization" else None,
                           context=SimpleNamespace())


ACCESS = access_state(admins=[8])  # user 8 holds admin rights in the access state


def authenticate(header):
    req = request(header)
    AuthMiddleware(SECRET, ACCESS).process_resource(req, None, None, {})
    user = req.context.user
    # The token's own id is checked by the AccessState tests; here who and which rights.
    return None if user is None else AuthUser(user.id, user.username, user.is_admin)


def raised(fn, *args):
    with pytest.raises(errors.DomainError) as info:
        fn(*args)
    exc = info.value
    return type(exc), exc.code, exc.message


def signed(**claims):
    now = int(time.time())
    return jwt.encode({"sub": "8", "iat": now, "exp": now + 60, "jti": "a" * 32, "ver": 0, **claims},
                      SECRET, algorithm="HS256")


def test_the_middleware_keeps_its_secret_and_its_state():
    middleware = AuthMiddleware(SECRET, ACCESS)
    assert middleware.secret == SECRET and middleware.access is ACCESS


def test_no_header_is_an_anonymous_caller():
    assert authenticate(None) is None and authenticate("") is None


def test_a_genuine_token_becomes_the_caller_with_the_rights_of_the_state():
    token = issue_token(CONFIG, 8, "alice", False)
    assert authenticate(f"Bearer {token}") == AuthUser(id=8, username="alice", is_admin=True)
    # The scheme is case-insensitive and the token may be padded with spaces.
    assert authenticate(f"bEaReR   {token}  ") == AuthUser(8, "alice", True)
    # The is_admin claim is never trusted (contract v2 decision 2).
    assert authenticate(f"Bearer {issue_token(CONFIG, 9, 'bob', True)}") == AuthUser(9, "bob", False)


def test_the_is_admin_claim_counts_for_nothing_and_a_missing_name_is_empty():
    assert authenticate(f"Bearer {signed(is_admin=False)}") == AuthUser(8, "", True)
    assert authenticate(f"Bearer {signed(is_admin='true', username=5)}") == AuthUser(8, "5", True)
    assert authenticate(f"Bearer {signed(sub='9', is_admin=True, username='c')}") == AuthUser(9, "c", False)


@pytest.mark.parametrize("drop", ["jti", "ver"])
def test_a_token_without_jti_or_ver_is_revoked(drop):
    now = int(time.time())
    claims = {"sub": "8", "iat": now, "exp": now + 60, "jti": "a" * 32, "ver": 0}
    del claims[drop]
    assert raised(authenticate, f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}") == (
        errors.TokenRevoked, "token_revoked",
        "The token was issued before revocation existed; log in again")


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer    ", "Token x", "bearer"])
def test_a_header_that_is_not_bearer_something_is_refused(header):
    assert raised(authenticate, header) == (
        errors.Unauthorized, "invalid_authorization_header",
        "Authorization header must be 'Bearer <token>'")


@pytest.mark.parametrize("token", ["nope", signed()[:-3] + "abc",
                                   jwt.encode({"sub": "8"}, SECRET, algorithm="HS256")])
def test_a_bad_token_is_refused(token):
    assert raised(authenticate, f"Bearer {token}") == (
        errors.Unauthorized, "invalid_token", "Token is invalid or expired")


def hook_req(user="absent"):
    req = SimpleNamespace(context=SimpleNamespace())
    if user != "absent":
        req.context.user = user
    return req


def test_require_user_refuses_anonymous_callers_and_passes_the_others():
    expected = (errors.Unauthorized, "not_authenticated", "Authentication credentials were not provided")
    assert raised(require_user, hook_req(), None, None, {}) == expected
    assert raised(require_user, hook_req(None), None, None, {}) == expected
    assert require_user(hook_req(AuthUser(1, "a", False)), None, None, {}) is None


def test_require_admin_wants_a_caller_first_and_then_the_right():
    assert raised(require_admin, hook_req(None), None, None, {})[1] == "not_authenticated"
    assert raised(require_admin, hook_req(AuthUser(1, "a", False)), None, None, {}) == (
        errors.Forbidden, "admin_required", "Administrator rights required")
    assert require_admin(hook_req(AuthUser(1, "a", True)), None, None, {}) is None


# -- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("exc,status", [
    (ServiceTimeout(), "504 Gateway Timeout"),
    (errors.ServiceUnavailable(), "503 Service Unavailable"),
    (errors.AnalyticsUnavailable(), "503 Service Unavailable"),
    (errors.ValidationFailed(), "422 Unprocessable Entity"),
    (errors.BadRequest(), "400 Bad Request"),
    (errors.UserAlreadyExists(), "400 Bad Request"),
    (errors.InvalidImage(), "400 Bad Request"),
    (errors.Unauthorized(), "401 Unauthorized"),
    (errors.InvalidCredentials(), "401 Unauthorized"),
    (errors.Forbidden(), "403 Forbidden"),
    (errors.NotPostAuthor(), "403 Forbidden"),
    (errors.NotFound(), "404 Not Found"),
    (errors.PostNotFound(), "404 Not Found"),
    (errors.Conflict(), "409 Conflict"),
    (errors.PayloadTooLarge(), falcon.HTTP_413),
    (errors.RateLimited(), "429 Too Many Requests"),
    (errors.DomainError(), "500 Internal Server Error"),
    (RuntimeError(), "500 Internal Server Error"),
])
def test_every_error_class_has_its_status(exc, status):
    assert status_for(exc) == status


def test_the_table_lists_the_timeout_before_the_unavailable_it_is_not():
    assert [cls for cls, _ in STATUS_BY_ERROR][:2] == [ServiceTimeout, errors.ServiceUnavailable]
    assert len(STATUS_BY_ERROR) == 10  # RateLimited -> 429 (contract v2 section 3.4) is the tenth


def test_the_error_body_names_fields_only_when_there_are_some():
    assert error_body("c", "m") == {"error": {"code": "c", "message": "m"}}
    assert error_body("c", "m", {}) == {"error": {"code": "c", "message": "m"}}
    assert error_body("c", "m", {"f": "bad"}) == {"error": {"code": "c", "message": "m",
                                                            "fields": {"f": "bad"}}}


class Resp:
    def __init__(self):
        self.status, self.media, self.headers = None, None, {}

    def set_header(self, name, value):
        self.headers[name] = value


def handled(handler, exc, req=None):
    resp = Resp()
    handler(req or falcon.testing.create_req(method="PUT", path="/x/y"), resp, exc, {})
    return resp


def test_a_domain_error_becomes_its_status_and_body():
    resp = handled(handle_domain_error, errors.ValidationFailed("bad", fields={"title": "long"}))
    assert resp.status == "422 Unprocessable Entity" and resp.headers == {}
    assert resp.media == {"error": {"code": "validation_error", "message": "bad",
                                    "fields": {"title": "long"}}}


def test_a_401_says_how_to_authenticate_and_a_503_when_to_retry():
    resp = handled(handle_domain_error, errors.InvalidCredentials())
    assert resp.headers == {"WWW-Authenticate": 'Bearer realm="imageboard"'}
    assert resp.media == {"error": {"code": "invalid_credentials",
                                    "message": "Invalid username or password"}}
    assert handled(handle_domain_error, errors.AnalyticsUnavailable()).headers == {"Retry-After": "5"}
    assert handled(handle_domain_error, ServiceTimeout()).headers == {}


@pytest.mark.parametrize("title,code", [
    ("404 Not Found", "not_found"), ("Method Not Allowed", "method_not_allowed"),
    ("414 Request-URI Too Long", "request_uri_too_long"), ("405", "error"), ("", "error"),
    (None, "error"), ("Bad  Request 2", "bad_request")])
def test_a_code_from_falcons_title(title, code):
    assert gateway_errors._code_from_title(title) == code


def test_falcons_errors_get_our_body_their_headers_and_a_readable_message():
    resp = handled(handle_http_error, falcon.HTTPBadRequest(title="400 Bad Request",
                                                            description="Broken header"))
    assert resp.status == falcon.HTTP_400
    assert resp.media == {"error": {"code": "bad_request", "message": "Broken header"}}
    resp = handled(handle_http_error, falcon.HTTPError(falcon.HTTP_414, title="414 URI Too Long"))
    assert resp.media == {"error": {"code": "uri_too_long", "message": "URI Too Long"}}
    resp = handled(handle_http_error, falcon.HTTPError(falcon.HTTP_418, title="418"))
    assert resp.media == {"error": {"code": "error", "message": "Request failed"}}
    resp = handled(handle_http_error, falcon.HTTPError(falcon.HTTP_409, code="already", title="x"))
    assert resp.media["error"]["code"] == "already"
    resp = handled(handle_http_error, falcon.HTTPMethodNotAllowed(["GET", "POST"]))
    assert resp.status == falcon.HTTP_405 and resp.headers == {"Allow": "GET, POST"}
    assert resp.media == {"error": {"code": "method_not_allowed",
                                    "message": "Method PUT is not allowed here"}}
    resp = handled(handle_http_error, falcon.HTTPRouteNotFound())
    assert resp.media == {"error": {"code": "not_found", "message": "No such endpoint: /x/y"}}


def test_a_bug_is_logged_with_its_traceback_and_answered_without_it(caplog):
    caplog.set_level(logging.ERROR, logger=gateway_errors.__name__)
    try:
        raise RuntimeError("secret detail")
    except RuntimeError as exc:
        resp = handled(handle_unexpected, exc)
    assert resp.status == falcon.HTTP_500
    assert resp.media == {"error": {"code": "internal_error", "message": "Internal server error"}}
    (record,) = caplog.records
    assert record.getMessage() == "unhandled error" and record.levelno == logging.ERROR
    assert record.exc_info[1].args == ("secret detail",)
    assert (record.path, record.method) == ("/x/y", "PUT")


def test_the_handlers_are_registered_for_their_kinds_of_error():
    class Raising:
        def on_get(self, req, resp, kind):
            raise {"domain": errors.Conflict("again"), "http": falcon.HTTPForbidden(),
                   "bug": KeyError("x")}[kind]
    app = falcon.App()
    register_error_handlers(app)
    app.add_route("/raise/{kind}", Raising())
    client = falcon.testing.TestClient(app)
    domain = client.simulate_get("/raise/domain")
    assert (domain.status_code, domain.json) == (409, {"error": {"code": "conflict", "message": "again"}})
    http = client.simulate_get("/raise/http")
    assert (http.status_code, http.json["error"]["code"]) == (403, "forbidden")
    bug = client.simulate_get("/raise/bug")
    assert (bug.status_code, bug.json["error"]["code"]) == (500, "internal_error")


# -- pagination at the edge --------------------------------------------------------------------

def req(query="", path="/api/posts/", root_path="", host="example.org", scheme="https"):
    return falcon.testing.create_req(path=path, query_string=query, root_path=root_path,
                                     host=host, scheme=scheme)


def refused(fn, *args, **kwargs):
    with pytest.raises(errors.BadRequest) as info:
        fn(*args, **kwargs)
    exc = info.value
    return exc.code, exc.message, exc.fields


def test_page_offset():
    assert Page(1, 20).offset == 0 and Page(3, 7).offset == 14


def test_query_int_takes_one_plain_integer_of_at_most_18_digits():
    assert query_int(req("page=7"), "page") == 7
    assert query_int(req("other=1"), "page") is None
    assert query_int(req("other=1"), "page", 4) == 4
    assert query_int(req("page=" + "9" * 18), "page") == 10**18 - 1
    assert query_int(req("page=0"), "page") == 0
    for query in ("page=", "page=1&page=2", "page=-1", "page=1.0", "page=" + "9" * 19,
                  "page=%201", "page=1x"):
        assert refused(query_int, req(query), "page") == (
            "invalid_pagination", "page must be a positive integer",
            {"page": "must be a positive integer"}), query
    assert refused(query_int, req("post_id=x"), "post_id", code="invalid_post_id")[0] == "invalid_post_id"


def test_parse_page_defaults_and_caps():
    assert parse_page(req()) == Page(1, 20)
    assert parse_page(req("page=3&limit=100")) == Page(3, 100)
    assert parse_page(req(), default_limit=5) == Page(1, 5)
    assert parse_page(req("limit=7"), max_limit=7) == Page(1, 7)
    assert refused(parse_page, req("limit=8"), max_limit=7) == (
        "invalid_pagination", "limit must be an integer from 1 to 7",
        {"limit": "must be an integer from 1 to 7"})
    assert refused(parse_page, req("limit=101"))[0] == "invalid_pagination"
    assert refused(parse_page, req("page=0"))[2] == {"page": f"must be an integer from 1 to {MAX_PAGE}"}
    assert refused(parse_page, req("limit=0"))[2] == {"limit": "must be an integer from 1 to 100"}


def test_page_urls_keep_every_other_parameter_and_the_callers_host():
    r = req("ordering=-created_at&page=2&limit=5&empty=", path="/api/posts")
    assert page_url(r, 3) == "https://example.org/api/posts/?ordering=-created_at&limit=5&empty=&page=3"
    r = req("", path="/api/comments/", root_path="/base", scheme="http", host="h:8080")
    assert page_url(r, 1) == "http://h:8080/base/api/comments/?page=1"
    # Only trailing slashes go: the path itself is kept whatever its last letters.
    assert page_url(req("", path="/api/LISTX//"), 2) == "https://example.org/api/LISTX/?page=2"


@pytest.mark.parametrize("page,limit,total,expected", [
    (1, 10, 0, (None, None)),
    (1, 10, 10, (None, None)),
    (1, 10, 11, (2, None)),
    (2, 10, 25, (3, 1)),
    (3, 10, 25, (None, 2)),
    (9, 10, 25, (None, 3)),   # past the end: previous is the last page with rows
    (5, 10, 0, (None, 1)),
])
def test_neighbours(page, limit, total, expected):
    def number(url):
        return None if url is None else int(url.rsplit("page=", 1)[1])
    next_url, previous_url = neighbours(req(), Page(page, limit), total)
    assert (number(next_url), number(previous_url)) == expected


def test_the_envelope():
    body = envelope(req("page=2&limit=1"), Page(2, 1), {"count": 3, "results": ["b"]})
    assert body == {"count": 3, "next": "https://example.org/api/posts/?limit=1&page=3",
                    "previous": "https://example.org/api/posts/?limit=1&page=1", "results": ["b"]}


def test_list_headers_total_and_links():
    resp = Resp()
    set_list_headers(req("post_id=4&page=2&limit=2", path="/api/comments/"), resp, Page(2, 2), 5)
    base = "https://example.org/api/comments/?post_id=4&limit=2&page="
    assert resp.headers == {
        "X-Total-Count": "5",
        "Link": f'<{base}1>; rel="first", <{base}1>; rel="prev", <{base}3>; rel="next", '
                f'<{base}3>; rel="last"'}
    resp = Resp()
    set_list_headers(req(path="/api/comments/"), resp, Page(1, 20), 0)
    only = "https://example.org/api/comments/?page=1"
    assert resp.headers == {"X-Total-Count": "0",
                            "Link": f'<{only}>; rel="first", <{only}>; rel="last"'}


# -- pagination in the kernel ------------------------------------------------------------------

def test_is_id_is_a_positive_bigint_and_never_a_bool():
    assert [is_id(v) for v in (1, 2**63 - 1, 0, -1, 2**63, True, False, 1.0, "1", None)] == [
        True, True, False, False, False, False, False, False, False, False]


def test_check_page_bounds_and_offset():
    assert check_page(1, 1) == 0 and check_page(3, 20) == 40
    assert check_page(MAX_PAGE, 100) == (MAX_PAGE - 1) * 100
    assert MAX_PAGE == 2**31 - 1
    for page, limit, name, top in ((0, 20, "page", MAX_PAGE), (MAX_PAGE + 1, 20, "page", MAX_PAGE),
                                   (1, 0, "limit", 100), (1, 101, "limit", 100),
                                   (True, 20, "page", MAX_PAGE), (1, "20", "limit", 100)):
        assert refused(check_page, page, limit) == (
            "invalid_pagination", f"{name} must be an integer from 1 to {top}",
            {name: f"must be an integer from 1 to {top}"}), (page, limit)
    # page is checked before limit
    assert refused(check_page, 0, 0)[2] == {"page": f"must be an integer from 1 to {MAX_PAGE}"}

"""Posts, comments and media at the gateway, with a fake RPC client: query parsing,
pagination links and headers, multipart uploads and their limits, auth, error mapping."""
import os

import pytest

from contracts.errors import ServiceUnavailable
from imageboard.tokens import issue_token
from services.comments.exceptions import InvalidParent
from services.posts.exceptions import InvalidOrdering, NotPostAuthor, PostNotFound
from tests.imagefiles import jpeg_bytes, png_of_exact_size
from tests.unit.gateway_fakes import grant_admin

FIVE_MB = 5 * 1024 * 1024


@pytest.fixture
def config(tmp_path):
    return {"JWT_SECRET": "k" * 32, "JWT_LIFETIME_SECONDS": 60, "SERVICES": ["users", "posts", "comments"],
            "MEDIA_ROOT": str(tmp_path / "media"), "MEDIA_URL": "/media/",
            "MAX_IMAGE_BYTES": FIVE_MB}


@pytest.fixture
def gateway_config(config):
    return config


def auth(user_id=7, admin=False, username="alice"):
    return {"Authorization": "Bearer " + issue_token({"JWT_SECRET": "k" * 32, "JWT_LIFETIME_SECONDS": 60},
                                                     user_id, username, admin)}


def feed(count, n=1, image=None):
    return lambda page, limit, ordering: {"count": count, "results": [
        {"id": i, "image_url": image} for i in range(n)]}


# --- GET /api/posts/ -------------------------------------------------------------------

def test_feed_defaults_and_envelope(client, rpc):
    rpc.answers = {("posts", "list_posts"): feed(45, image="/media/a.jpg")}
    body = client.simulate_get("/api/posts/").json
    assert rpc.calls == [("posts", "list_posts", (1, 20, None))]
    assert body["count"] == 45 and body["previous"] is None
    assert body["next"] == "http://falconframework.org/api/posts/?page=2"
    assert body["results"][0]["image_url"] == "http://falconframework.org/media/a.jpg"


def test_next_and_previous_keep_other_parameters(client, rpc):
    rpc.answers = {("posts", "list_posts"): feed(45)}
    body = client.simulate_get("/api/posts", query_string="ordering=-likes_count&page=2&limit=20").json
    assert rpc.calls[-1] == ("posts", "list_posts", (2, 20, "-likes_count"))
    assert body["next"] == "http://falconframework.org/api/posts/?ordering=-likes_count&limit=20&page=3"
    assert body["previous"] == "http://falconframework.org/api/posts/?ordering=-likes_count&limit=20&page=1"
    last = client.simulate_get("/api/posts/", query_string="page=3").json
    assert last["next"] is None and last["previous"].endswith("page=2")


def test_urls_use_the_scheme_and_host_the_client_used_behind_a_proxy(client, rpc):
    rpc.answers = {("posts", "list_posts"): feed(45, image="/media/a.jpg")}
    body = client.simulate_get("/api/posts/", headers={"X-Forwarded-Proto": "https",
                                                       "X-Forwarded-Host": "board.example"}).json
    assert body["next"] == "https://board.example/api/posts/?page=2"
    assert body["results"][0]["image_url"] == "https://board.example/media/a.jpg"


def test_page_past_the_end_is_empty_with_previous_on_the_last_page(client, rpc):
    rpc.answers = {("posts", "list_posts"): lambda p, l, o: {"count": 45, "results": []}}
    body = client.simulate_get("/api/posts/", query_string="page=9").json
    assert body == {"count": 45, "next": None, "results": [],
                    "previous": "http://falconframework.org/api/posts/?page=3"}


@pytest.mark.parametrize("query,ok", [
    ("limit=100", True), ("limit=101", False), ("limit=1", True), ("limit=0", False),
    ("page=1", True), ("page=0", False), ("page=-1", False), ("page=abc", False),
    ("page=1.5", False), ("page=", False), ("limit=", False), ("page=1&page=2", False),
    ("page=%201", False), ("page=2147483647", True), ("page=2147483648", False),
    ("page=99999999999999999999", False),
])
def test_page_and_limit_edges(client, rpc, query, ok):
    rpc.answers = {("posts", "list_posts"): feed(0, n=0)}
    resp = client.simulate_get("/api/posts/", query_string=query)
    if ok:
        assert resp.status_code == 200
    else:
        assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_pagination"
        assert rpc.calls == []


def test_unknown_ordering_is_400_from_the_service(client, rpc):
    rpc.answers = {("posts", "list_posts"): InvalidOrdering()}
    resp = client.simulate_get("/api/posts/", query_string="ordering=title")
    assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_ordering"


# --- POST /api/posts/ ------------------------------------------------------------------

def created(payload, author):
    return {"id": 1, "title": payload["title"], "content": payload["content"],
            "image_url": "/media/x.jpg" if "image_upload" in payload else None,
            "author": author["id"], "created_at": "t", "likes_count": 0}


def multipart(fields, files=()):
    boundary = "----hpa-boundary"
    out = b""
    for name, value in fields.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").encode()
        out += (value if isinstance(value, bytes) else value.encode()) + b"\r\n"
    for name, filename, data in files:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def upload_dir(config):
    return os.path.join(os.path.dirname(config["MEDIA_ROOT"]), "uploads")


def leftover_uploads(config):
    folder = upload_dir(config)
    return os.listdir(folder) if os.path.isdir(folder) else []


def test_create_needs_a_token(client, rpc):
    body, headers = multipart({"title": "t", "content": "c"})
    resp = client.simulate_post("/api/posts/", body=body, headers=headers)
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert rpc.calls == []


def test_create_from_multipart_passes_the_author_from_the_token(client, rpc):
    rpc.answers = {("posts", "create_post"): created}
    body, headers = multipart({"title": "Hello", "content": "Привет"})
    resp = client.simulate_post("/api/posts/", body=body, headers=dict(headers, **auth(7)))
    assert resp.status_code == 201 and resp.json["author"] == 7 and resp.json["image_url"] is None
    assert rpc.calls == [("posts", "create_post", ({"title": "Hello", "content": "Привет"},
                                                   {"id": 7, "username": "alice"}))]


def test_create_from_json_works_too(client, rpc):
    rpc.answers = {("posts", "create_post"): created}
    resp = client.simulate_post("/api/posts/", json={"title": "a", "content": "b"}, headers=auth())
    assert resp.status_code == 201


def _capture_upload(config, seen):
    def answer(payload, author):
        path = os.path.join(upload_dir(config), payload["image_upload"])
        with open(path, "rb") as fh:
            seen.append(fh.read())
        return created(payload, author)
    return answer


def test_image_of_exactly_5_mb_is_streamed_to_the_upload_dir_and_cleaned_up(client, rpc, config):
    image, seen = png_of_exact_size(FIVE_MB), []
    rpc.answers = {("posts", "create_post"): _capture_upload(config, seen)}
    body, headers = multipart({"title": "t", "content": "c"}, [("image", "a.png", image)])
    resp = client.simulate_post("/api/posts/", body=body, headers=dict(headers, **auth()))
    assert resp.status_code == 201, resp.text
    assert resp.json["image_url"] == "http://falconframework.org/media/x.jpg"
    assert seen == [image]
    assert leftover_uploads(config) == []  # the gateway removes what the service left


def test_image_one_byte_over_5_mb_is_413_without_calling_the_service(client, rpc, config):
    body, headers = multipart({"title": "t", "content": "c"}, [("image", "a.png", png_of_exact_size(FIVE_MB + 1))])
    resp = client.simulate_post("/api/posts/", body=body, headers=dict(headers, **auth()))
    assert resp.status_code == 413 and resp.json["error"]["code"] == "image_too_large"
    assert rpc.calls == [] and leftover_uploads(config) == []


class CountingStream:
    """A request body that records how much of it the server read."""

    def __init__(self, size):
        self.size, self.read_bytes = size, 0

    def read(self, n=-1):
        n = self.size - self.read_bytes if n is None or n < 0 else min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return b"x" * n

    def readline(self, *args):
        return self.read(*args)

    def readlines(self, *args):
        return [self.read()]

    def __iter__(self):
        return iter([self.read()])


def test_declared_content_length_over_the_limit_is_413_before_reading(client, rpc):
    stream = CountingStream(50 * 1024 * 1024)
    headers = dict(auth(), **{"Content-Type": "multipart/form-data; boundary=b",
                              "Content-Length": str(stream.size)})
    resp = client.simulate_request("POST", "/api/posts/", headers=headers,
                                   extras={"wsgi.input": stream})
    assert resp.status_code == 413 and stream.read_bytes == 0


def test_service_error_still_removes_the_upload(client, rpc, config):
    rpc.answers = {("posts", "create_post"): ServiceUnavailable("down")}
    body, headers = multipart({"title": "t", "content": "c"}, [("image", "a.jpg", jpeg_bytes())])
    assert client.simulate_post("/api/posts/", body=body, headers=dict(headers, **auth())).status_code == 503
    assert leftover_uploads(config) == []


@pytest.mark.parametrize("fields,files,code", [
    ({"title": "t", "content": "c"}, [("image", "a.jpg", b"1"), ("image", "b.jpg", b"2")], "invalid_form"),
    ({"title": b"\xff\xfe", "content": "c"}, [], "invalid_form"),
])
def test_bad_forms_are_400(client, rpc, config, fields, files, code):
    body, headers = multipart(fields, files)
    resp = client.simulate_post("/api/posts/", body=body, headers=dict(headers, **auth()))
    assert resp.status_code == 400 and resp.json["error"]["code"] == code
    assert rpc.calls == [] and leftover_uploads(config) == []


def test_malformed_multipart_is_400(client, rpc):
    headers = dict(auth(), **{"Content-Type": "multipart/form-data; boundary=zzz"})
    resp = client.simulate_post("/api/posts/", body=b"garbage without boundaries", headers=headers)
    assert resp.status_code == 400 and "error" in resp.json


def test_empty_file_part_means_no_image(client, rpc):
    rpc.answers = {("posts", "create_post"): created}
    body, headers = multipart({"title": "t", "content": "c"}, [("image", "", b"")])
    resp = client.simulate_post("/api/posts/", body=body, headers=dict(headers, **auth()))
    assert resp.status_code == 201 and "image_upload" not in rpc.calls[0][2][0]


# --- one post ---------------------------------------------------------------------------

def test_detail_like_and_delete(client, rpc, access):
    rpc.answers = {("posts", "get_post"): lambda pid, viewer: {"id": pid, "image_url": None, "likes": []},
                   ("posts", "toggle_like"): lambda pid, user: {"post_id": pid, "liked": True,
                                                                "likes_count": 1, "message": "Post liked"},
                   ("posts", "delete_post"): {"post_id": 3}}
    detail = client.simulate_get("/api/posts/3/")
    assert detail.status_code == 200 and detail.json["id"] == 3, detail.text
    assert rpc.calls[-1] == ("posts", "get_post", (3, None))  # anonymous viewer (post.viewed)
    assert client.simulate_get("/api/posts/3/", headers=auth(7)).json["id"] == 3
    assert rpc.calls[-1] == ("posts", "get_post", (3, 7))
    assert client.simulate_post("/api/posts/3/like/").status_code == 401
    assert client.simulate_post("/api/posts/3/like/", headers=auth(7)).json["liked"] is True
    assert rpc.calls[-1] == ("posts", "toggle_like", (3, {"id": 7, "username": "alice"}))
    assert client.simulate_delete("/api/posts/3/").status_code == 401
    grant_admin(access, 7)
    resp = client.simulate_delete("/api/posts/3/", headers=auth(7))
    assert resp.status_code == 204 and resp.text == ""
    assert rpc.calls[-1] == ("posts", "delete_post", (3, {"id": 7, "username": "alice", "is_admin": True}))


@pytest.mark.parametrize("error,status", [(PostNotFound(), 404), (NotPostAuthor(), 403)])
def test_delete_errors(client, rpc, error, status):
    rpc.answers = {("posts", "delete_post"): error}
    resp = client.simulate_delete("/api/posts/3/", headers=auth())
    assert resp.status_code == status and resp.json["error"]["code"] == error.code


def test_non_numeric_post_id_is_a_missing_route(client):
    assert client.simulate_get("/api/posts/abc/").status_code == 404
    assert client.simulate_get("/api/posts/0/").status_code == 404


# --- comments ---------------------------------------------------------------------------

def comments_answers(count, n):
    return {("posts", "post_exists"): True,
            ("comments", "list_comments"): lambda pid, page, limit: {
                "count": count, "results": [{"id": i, "post_id": pid} for i in range(n)]}}


def test_comment_list_is_a_plain_array_with_total_and_link_headers(client, rpc):
    rpc.answers = comments_answers(45, 20)
    resp = client.simulate_get("/api/comments/", query_string="post_id=5&page=2")
    assert isinstance(resp.json, list) and len(resp.json) == 20
    assert rpc.calls == [("comments", "list_comments", (5, 2, 20))]  # comments prove the post exists
    assert resp.headers["X-Total-Count"] == "45"
    base = "http://falconframework.org/api/comments/?post_id=5"
    assert resp.headers["Link"] == (f'<{base}&page=1>; rel="first", <{base}&page=1>; rel="prev", '
                                    f'<{base}&page=3>; rel="next", <{base}&page=3>; rel="last"')


@pytest.mark.parametrize("query", ["", "post_id=", "post_id=abc", "post_id=0", "post_id=-3",
                                   "post_id=1&post_id=2", "post_id=1&limit=101", "post_id=1&page=0"])
def test_comment_list_bad_queries_are_400(client, rpc, query):
    rpc.answers = comments_answers(0, 0)
    resp = client.simulate_get("/api/comments/", query_string=query)
    assert resp.status_code == 400 and rpc.calls == []


def test_comment_list_of_a_missing_post_is_404(client, rpc):
    rpc.answers = comments_answers(0, 0)
    rpc.answers[("posts", "post_exists")] = PostNotFound()
    resp = client.simulate_get("/api/comments/", query_string="post_id=9")
    assert resp.status_code == 404 and resp.json["error"]["code"] == "post_not_found"
    assert rpc.calls[-1] == ("posts", "post_exists", (9,))


def test_empty_comment_list_of_an_existing_post(client, rpc):
    rpc.answers = comments_answers(0, 0)
    resp = client.simulate_get("/api/comments/", query_string="post_id=9")
    assert resp.status_code == 200 and resp.json == [] and resp.headers["X-Total-Count"] == "0"


def test_create_comment(client, rpc):
    rpc.answers = {("comments", "create_comment"): lambda payload, author: dict(payload, id=1, author=author["id"])}
    assert client.simulate_post("/api/comments/", json={"post_id": 1, "content": "x"}).status_code == 401
    resp = client.simulate_post("/api/comments/", json={"post_id": 1, "content": "x"}, headers=auth(4, username="bob"))
    assert resp.status_code == 201 and resp.json["author"] == 4
    assert rpc.calls[-1] == ("comments", "create_comment", ({"post_id": 1, "content": "x"}, {"id": 4, "username": "bob"}))
    assert client.simulate_post("/api/comments/", body=b"{oops", headers=auth()).status_code == 400


@pytest.mark.parametrize("error,status", [(InvalidParent(), 400), (PostNotFound(), 404)])
def test_create_comment_errors(client, rpc, error, status):
    rpc.answers = {("comments", "create_comment"): error}
    resp = client.simulate_post("/api/comments/", json={"post_id": 1, "content": "x"}, headers=auth())
    assert resp.status_code == status and resp.json["error"]["code"] == error.code


# --- media ------------------------------------------------------------------------------

def test_media_files_are_served_and_traversal_is_refused(client, config):
    os.makedirs(config["MEDIA_ROOT"], exist_ok=True)
    with open(os.path.join(config["MEDIA_ROOT"], "abc.jpg"), "wb") as fh:
        fh.write(jpeg_bytes())
    resp = client.simulate_get("/media/abc.jpg")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/jpeg"
    assert client.simulate_get("/media/../secret").status_code == 404
    assert client.simulate_get("/media/nope.jpg").status_code == 404

"""Cursors (encode/decode/tamper), the keyset SQL, and the gateway's rules of contract v2
sections 3.5 and 3.6 with a fake RPC client."""
import base64
import json
from urllib.parse import parse_qs, urlparse

import pytest

from contracts.errors import InvalidCursor, InvalidSearch
from imageboard import cursors
from imageboard.keyset import Keyset
from services.posts.search import SEARCH_SQL, SEARCHABLE, check_search

SECRET = "k" * 32
KEY = ("2026-12-07T15:01:07.123456+00:00", 41)


# --- imageboard/cursors.py -----------------------------------------------------------

def test_a_cursor_round_trips_and_is_opaque_url_safe_text():
    token = cursors.encode(SECRET, "posts:-created_at", "next", KEY)
    assert cursors.decode(SECRET, "posts:-created_at", token) == ("next", KEY)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_a_cursor_of_another_list_or_ordering_is_refused():
    token = cursors.encode(SECRET, "posts:-created_at", "next", KEY)
    for scope in ("posts:created_at", "comments:1"):
        with pytest.raises(InvalidCursor):
            cursors.decode(SECRET, scope, token)
    comments = cursors.encode(SECRET, "comments:1", "next", KEY)
    with pytest.raises(InvalidCursor):
        cursors.decode(SECRET, "comments:2", comments)


def _forged(body, tag_from):
    """`body` re-encoded with the tag of another cursor: an altered cursor."""
    raw = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=")
    return raw.decode() + "." + tag_from.split(".")[1]


def test_an_altered_cursor_is_refused():
    token = cursors.encode(SECRET, "posts:-created_at", "next", KEY)
    altered = _forged(["posts:-created_at", "next", KEY[0], 40], token)
    with pytest.raises(InvalidCursor):
        cursors.decode(SECRET, "posts:-created_at", altered)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(InvalidCursor):
        cursors.decode(SECRET, "posts:-created_at", flipped)
    with pytest.raises(InvalidCursor):  # another secret signed it
        cursors.decode("other" * 8, "posts:-created_at", token)


@pytest.mark.parametrize("token", ["", ".", "abc", "a.b.c", "!!!.???", "x" * 401, "e30.AAAA",
                                   None, 12])
def test_a_malformed_cursor_is_refused(token):
    with pytest.raises(InvalidCursor):
        cursors.decode(SECRET, "posts:-created_at", token)


@pytest.mark.parametrize("body", [["posts:-created_at", "sideways", KEY[0], 1],
                                  ["posts:-created_at", "next", "yesterday", 1],
                                  ["posts:-created_at", "next", "2026-12-07T15:01:07", 1],
                                  ["posts:-created_at", "next", KEY[0], -1],
                                  ["posts:-created_at", "next", KEY[0], True],
                                  ["posts:-created_at", "next", KEY[0]], {"a": 1}])
def test_a_signed_but_nonsensical_body_is_refused(body):
    raw = json.dumps(body).encode()
    import hashlib
    import hmac
    tag = hmac.new(cursors._key(SECRET), raw, hashlib.sha256).digest()[:16]
    token = f"{cursors._b64(raw)}.{cursors._b64(tag)}"
    with pytest.raises(InvalidCursor):
        cursors.decode(SECRET, "posts:-created_at", token)


@pytest.mark.parametrize("key", [None, [], ["x", 1], [KEY[0], "1"], [KEY[0], 2**63], "k"])
def test_services_refuse_a_key_that_is_not_one(key):
    with pytest.raises(InvalidCursor):
        cursors.check_key(key)


# --- imageboard/keyset.py ------------------------------------------------------------

def test_keyset_conditions_follow_the_order_and_let_the_index_start_at_the_key():
    feed = Keyset("title", "posts", "TRUE", created_desc=True, id_desc=True)
    sql = feed.sql(forward=True, with_key=True)
    assert "created_at <= %(k_created)s::timestamptz AND (created_at < %(k_created)s" in sql
    assert "id < %(k_id)s" in sql and sql.endswith("ORDER BY created_at DESC, id DESC LIMIT %(k_limit)s")
    back = feed.sql(forward=False, with_key=True)
    assert "created_at >= " in back and "id > %(k_id)s" in back
    assert back.endswith("ORDER BY created_at ASC, id ASC LIMIT %(k_limit)s")
    thread = Keyset("content", "comments", "post_id = %(post_id)s", created_desc=False, id_desc=False)
    assert thread.sql(True, False).startswith("SELECT content, created_at, id FROM comments WHERE")
    assert thread.sql(True, False).endswith(
        "WHERE post_id = %(post_id)s ORDER BY created_at ASC, id ASC LIMIT %(k_limit)s")
    # Inclusive neighbours of an emptied page step one id the right way.
    assert feed.beside(KEY, forward=False) == (KEY[0], 40)
    assert thread.beside(KEY, forward=False) == (KEY[0], 42)
    assert thread.beside(KEY, forward=True) == (KEY[0], 40)


# --- services/posts/search.py ----------------------------------------------------------

def test_search_sql_ranks_without_ordering_and_filters_in_one_place():
    assert "ts_rank(posts.search_vector, q.query) AS m_rank" in SEARCH_SQL[None]
    assert SEARCH_SQL[None].endswith("ORDER BY m_rank DESC, m_created DESC, m_id DESC")
    assert "ts_rank" not in SEARCH_SQL["-likes_count"]  # search only filters
    assert SEARCH_SQL["-likes_count"].endswith("ORDER BY m_likes DESC, m_created DESC, m_id DESC")
    assert all(f"WHERE {SEARCHABLE})" in sql for sql in SEARCH_SQL.values())
    assert all("websearch_to_tsquery(%(config)s::regconfig, %(search)s)" in sql for sql in SEARCH_SQL.values())


@pytest.mark.parametrize("search", ["x" * 201, "a\x00b", None, 5])
def test_the_service_refuses_bad_search_values(search):
    with pytest.raises(InvalidSearch):
        check_search(search)


# --- the gateway ------------------------------------------------------------------------

def _posts_cursor(limit, ordering, direction, key):
    return {"results": [{"id": 1, "image_url": None}], "next": [KEY[0], 5],
            "previous": [KEY[0], 9] if key else None}


def _cursor_of(url):
    return parse_qs(urlparse(url).query)["cursor"][0]


def test_search_goes_to_search_posts_with_page_and_ordering(client, rpc):
    rpc.answers = {("posts", "search_posts"): {"count": 21, "results": []}}
    body = client.simulate_get("/api/posts/", query_string="search=%D0%BA%D0%BE%D1%82+dog&page=2&ordering=-likes_count").json
    assert rpc.calls == [("posts", "search_posts", ("кот dog", 2, 20, "-likes_count"))]
    assert body["count"] == 21 and "search=" in body["previous"]


@pytest.mark.parametrize("query", ["search=", "search=%20%20"])
def test_a_blank_search_is_absent(client, rpc, query):
    rpc.answers = {("posts", "list_posts"): {"count": 0, "results": []}}
    assert client.simulate_get("/api/posts/", query_string=query).status_code == 200
    assert rpc.calls[0][1] == "list_posts"


@pytest.mark.parametrize("query", ["search=" + "a" * 201, "search=a&search=b", "search=a%00b"])
def test_bad_searches_are_400_invalid_search(client, rpc, query):
    resp = client.simulate_get("/api/posts/", query_string=query)
    assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_search"
    assert rpc.calls == []


def test_200_characters_are_a_search(client, rpc):
    rpc.answers = {("posts", "search_posts"): {"count": 0, "results": []}}
    assert client.simulate_get("/api/posts/", query_string="search=" + "a" * 200).status_code == 200


def test_cursor_mode_body_links_and_a_cursor_round_trip(client, rpc):
    rpc.answers = {("posts", "list_posts_cursor"): _posts_cursor}
    body = client.simulate_get("/api/posts/", query_string="pagination=cursor&limit=5").json
    assert rpc.calls[-1] == ("posts", "list_posts_cursor", (5, None, "next", None))
    assert set(body) == {"next", "previous", "results"} and body["previous"] is None
    assert body["next"].startswith("http://falconframework.org/api/posts/?limit=5&pagination=cursor&cursor=")
    # Following next: only the cursor, as a link carries it, is enough.
    following = client.simulate_get("/api/posts/", query_string="cursor=" + _cursor_of(body["next"]) + "&limit=5")
    assert following.status_code == 200
    assert rpc.calls[-1] == ("posts", "list_posts_cursor", (5, None, "next", (KEY[0], 5)))
    back = following.json["previous"]
    client.simulate_get("/api/posts/", query_string="cursor=" + _cursor_of(back))
    assert rpc.calls[-1] == ("posts", "list_posts_cursor", (20, None, "prev", (KEY[0], 9)))


@pytest.mark.parametrize("query", ["pagination=cursor&page=2", "pagination=cursor&search=cat",
                                   "pagination=cursor&ordering=likes_count",
                                   "pagination=cursor&ordering=-likes_count", "pagination=pages",
                                   "pagination=cursor&pagination=cursor"])
def test_invalid_pagination(client, rpc, query):
    resp = client.simulate_get("/api/posts/", query_string=query)
    assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_pagination"
    assert rpc.calls == []


def test_cursor_rules_and_errors(client, rpc):
    token = cursors.encode("k" * 32, "posts:-created_at", "next", KEY)
    for query in (f"cursor={token}&search=cat", f"cursor={token}&ordering=likes_count",
                  f"cursor={token}&ordering=created_at", f"cursor={token}&cursor={token}",
                  "cursor=nonsense", f"cursor={token[:-2]}"):
        resp = client.simulate_get("/api/posts/", query_string=query)
        assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_cursor", query
    resp = client.simulate_get("/api/posts/", query_string=f"cursor={token}&page=1")
    assert resp.json["error"]["code"] == "invalid_pagination"
    resp = client.simulate_get("/api/posts/", query_string="pagination=cursor&ordering=title")
    assert resp.json["error"]["code"] == "invalid_ordering"
    comments = cursors.encode("k" * 32, "comments:1", "next", KEY)
    resp = client.simulate_get("/api/posts/", query_string=f"cursor={comments}")
    assert resp.json["error"]["code"] == "invalid_cursor"
    assert rpc.calls == []


def test_comments_cursor_mode_is_a_plain_array_with_next_and_prev_links_only(client, rpc):
    rpc.answers = {("comments", "list_comments_cursor"): lambda post, limit, direction, key: {
        "results": [{"id": 3}], "next": [KEY[0], 3], "previous": [KEY[0], 2] if key else None}}
    resp = client.simulate_get("/api/comments/", query_string="post_id=1&pagination=cursor")
    assert resp.json == [{"id": 3}] and "X-Total-Count" not in resp.headers
    assert resp.headers["Link"].count("rel=") == 1 and resp.headers["Link"].endswith('rel="next"')
    nxt = resp.headers["Link"][1:].split(">")[0]
    again = client.simulate_get("/api/comments/", query_string=urlparse(nxt).query)
    assert rpc.calls[-1] == ("comments", "list_comments_cursor", (1, 20, "next", (KEY[0], 3)))
    assert 'rel="prev"' in again.headers["Link"]
    other_post = client.simulate_get("/api/comments/", query_string="post_id=2&" + urlparse(nxt).query.split("&", 1)[1])
    assert other_post.json["error"]["code"] == "invalid_cursor"


def test_an_empty_comments_cursor_page_asks_whether_the_post_exists(client, rpc):
    from services.posts.exceptions import PostNotFound
    rpc.answers = {("comments", "list_comments_cursor"): {"results": [], "next": None, "previous": None},
                   ("posts", "post_exists"): PostNotFound()}
    resp = client.simulate_get("/api/comments/", query_string="post_id=9&pagination=cursor")
    assert resp.status_code == 404 and resp.json["error"]["code"] == "post_not_found"
    rpc.answers[("posts", "post_exists")] = True
    resp = client.simulate_get("/api/comments/", query_string="post_id=9&pagination=cursor")
    assert resp.status_code == 200 and resp.json == [] and "Link" not in resp.headers

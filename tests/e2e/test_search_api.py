"""Search (contract v2 section 3.5) and cursor pagination (section 3.6) over HTTP against
the running stack. Search words carry the test's unique suffix, so other tests' posts
never match."""
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import bearer
from tests.openapi_check import assert_conforms

pytestmark = pytest.mark.e2e


def create(api, user, title, content):
    resp = api("POST", "/api/posts/", files={"title": (None, title), "content": (None, content)},
               headers=bearer(user))
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def search(api, words, **params):
    resp = api("GET", "/api/posts/", params={"search": words, **params})
    assert resp.status_code == 200, resp.text
    return assert_conforms(resp)


def ids(body):
    return [post["id"] for post in body["results"]]


def error_code(resp):
    return resp.status_code, resp.json()["error"]["code"]


def test_ranking_title_first_then_ties_newest_first(api, register, unique):
    user = register("searcher")
    word = f"zebra{unique}"
    older = create(api, user, "an older post", f"about the {word} in the content")
    in_title = create(api, user, f"The {word}", "nothing more")
    newer = create(api, user, "a newer post", f"about the {word} in the content")
    create(api, user, "unrelated", "no match here")
    body = search(api, word)
    assert ids(body) == [in_title, newer, older]
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    assert body["results"][0]["title"] == f"The {word}"


def test_phrase_minus_word_or_and_two_words(api, register, unique):
    user = register("phrase")
    alpha, beta, gamma = f"alpha{unique}", f"beta{unique}", f"gamma{unique}"
    ordered = create(api, user, "one", f"{alpha} {beta} here")
    reversed_ = create(api, user, "two", f"{beta} {alpha} here")
    with_gamma = create(api, user, "three", f"{alpha} {beta} {gamma}")
    assert set(ids(search(api, f'"{alpha} {beta}"'))) == {ordered, with_gamma}
    assert ids(search(api, f"{alpha} -{gamma}")) == [reversed_, ordered]
    assert set(ids(search(api, f"{alpha} {beta}"))) == {ordered, reversed_, with_gamma}
    assert ids(search(api, f"{gamma} or nothing{unique}")) == [with_gamma]


def test_cyrillic_text_is_found_case_insensitively(api, register, unique):
    user = register("cyr")
    post = create(api, user, f"Привет, мир {unique}", "Съешь же ещё этих мягких французских булок")
    assert ids(search(api, f"ПРИВЕТ {unique}")) == [post]
    assert ids(search(api, f"булок {unique}")) == [post]
    assert search(api, f"мир -булок {unique}")["count"] == 0


def test_ordering_only_filters_and_count_page_limit(api, register, unique):
    user = register("order")
    word = f"otter{unique}"
    first = create(api, user, f"{word} {word}", "x")
    second = create(api, user, "y", word)
    third = create(api, user, "z", word)
    assert ids(search(api, word, ordering="created_at")) == [first, second, third]
    assert ids(search(api, word, ordering="-created_at")) == [third, second, first]
    api("POST", f"/api/posts/{second}/like/", headers=bearer(user))
    assert ids(search(api, word, ordering="-likes_count")) == [second, third, first]
    page = search(api, word, ordering="created_at", limit=1, page=2)
    assert ids(page) == [second] and page["count"] == 3
    assert "search=" in page["next"] and "page=3" in page["next"]
    assert search(api, word, page=9)["count"] == 3  # past the end: the count stands


def test_search_length_blank_and_no_searchable_words(api, register, unique):
    create(api, register("len"), f"w{unique}", "text")
    at_limit = f"w{unique} " + "a" * (199 - len(f"w{unique}"))
    assert len(at_limit) == 200 and search(api, at_limit)["count"] == 0
    assert search(api, f"w{unique}")["count"] == 1
    resp = api("GET", "/api/posts/", params={"search": at_limit + "b"})
    assert error_code(resp) == (400, "invalid_search")
    assert_conforms(resp)
    feed = api("GET", "/api/posts/", params={"search": ""}).json()
    assert feed["count"] == api("GET", "/api/posts/").json()["count"] > 0
    nothing = search(api, "!!! ... ---")
    assert nothing["count"] == 0 and nothing["results"] == []


# --- cursor pagination ---------------------------------------------------------------

def follow(api, url):
    resp = api("GET", urlparse(url).path + "?" + urlparse(url).query)
    assert resp.status_code == 200, resp.text
    return resp


def walk(api, first, key):
    """Every page from `first` along `key` ("next"/"previous") links."""
    pages = [first]
    while pages[-1][key]:
        pages.append(assert_conforms(follow(api, pages[-1][key])))
        assert len(pages) < 500
    return pages


@pytest.mark.parametrize("ordering", ["-created_at", "created_at"])
def test_posts_cursor_walk_matches_the_feed_both_ways(api, register, unique, ordering):
    user = register("walk")
    for n in range(5):
        create(api, user, f"walk {n}", "x")
    total = api("GET", "/api/posts/", params={"limit": 1}).json()["count"]
    feed = [p["id"] for page in range(1, total // 100 + 2)
            for p in api("GET", "/api/posts/", params={"limit": 100, "page": page,
                                                       "ordering": ordering}).json()["results"]]
    resp = api("GET", "/api/posts/", params={"pagination": "cursor", "limit": 7, "ordering": ordering})
    first = assert_conforms(resp)
    assert set(first) == {"next", "previous", "results"} and first["previous"] is None
    forward = walk(api, first, "next")
    assert [i for page in forward for i in ids(page)] == feed
    assert all(len(ids(page)) == 7 for page in forward[:-1]) and forward[-1]["next"] is None
    backward = walk(api, forward[-1], "previous")
    assert [ids(page) for page in backward] == [ids(page) for page in reversed(forward)]
    assert backward[-1]["previous"] is None


def test_rows_added_or_removed_meanwhile_never_shift_a_page(api, register, unique):
    user = register("shift")
    mine = [create(api, user, f"shift {n}", "x") for n in range(6)]  # newest last
    first = api("GET", "/api/posts/", params={"pagination": "cursor", "limit": 2}).json()
    assert ids(first) == mine[:-3:-1]
    create(api, user, "added meanwhile", "x")
    api("DELETE", f"/api/posts/{mine[-1]}/", headers=bearer(user))  # a row of the first page
    second = follow(api, first["next"]).json()
    assert ids(second) == [mine[3], mine[2]]
    api("DELETE", f"/api/posts/{mine[1]}/", headers=bearer(user))  # the next page's first row
    third = follow(api, second["next"]).json()
    assert ids(third)[0] == mine[0]
    back = follow(api, third["previous"]).json()
    assert ids(back) == [mine[3], mine[2]]


def cursor_of(url):
    return parse_qs(urlparse(url).query)["cursor"][0]


def test_every_cursor_rule_and_error(api, register, unique):
    user = register("rules")
    post = create(api, user, "rules", "x")
    for _ in range(2):
        create(api, user, "more", "x")
    newest = api("GET", "/api/posts/", params={"pagination": "cursor", "limit": 1}).json()
    oldest = api("GET", "/api/posts/", params={"pagination": "cursor", "limit": 1,
                                               "ordering": "created_at"}).json()
    token = cursor_of(newest["next"])
    tampered = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    api("POST", "/api/comments/", json={"post_id": post, "content": "c1"}, headers=bearer(user))
    api("POST", "/api/comments/", json={"post_id": post, "content": "c2"}, headers=bearer(user))
    comments = api("GET", "/api/comments/", params={"post_id": post, "pagination": "cursor", "limit": 1})
    comment_token = cursor_of(comments.headers["Link"][1:].split(">")[0])
    cases = [
        ({"cursor": tampered}, "invalid_cursor"),
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"cursor": token, "ordering": "created_at"}, "invalid_cursor"),
        ({"cursor": cursor_of(oldest["next"])}, "invalid_cursor"),
        ({"cursor": comment_token}, "invalid_cursor"),
        ({"cursor": token, "search": "words"}, "invalid_cursor"),
        ({"cursor": token, "ordering": "-likes_count"}, "invalid_cursor"),
        ({"pagination": "cursor", "page": 2}, "invalid_pagination"),
        ({"cursor": token, "page": 1}, "invalid_pagination"),
        ({"pagination": "cursor", "search": "words"}, "invalid_pagination"),
        ({"pagination": "cursor", "ordering": "likes_count"}, "invalid_pagination"),
    ]
    for params, code in cases:
        resp = api("GET", "/api/posts/", params=params)
        assert error_code(resp) == (400, code), params
        assert_conforms(resp)
    assert api("GET", "/api/posts/", params={"pagination": "cursor", "cursor": ""}).status_code == 200
    other_post = api("GET", "/api/comments/", params={"post_id": post + 1000, "cursor": comment_token})
    assert error_code(other_post) == (400, "invalid_cursor")
    resp = api("GET", "/api/comments/", params={"post_id": post, "pagination": "cursor", "page": 1})
    assert error_code(resp) == (400, "invalid_pagination")


def links(resp):
    """{rel: url} of a Link header."""
    out = {}
    for part in filter(None, resp.headers.get("Link", "").split(", ")):
        url, rel = part.split("; ")
        out[rel.split('"')[1]] = url.strip("<>")
    return out


def test_comments_cursor_pages_oldest_first_with_link_header(api, register, unique):
    user = register("thread")
    post = create(api, user, "thread", "x")
    made = [api("POST", "/api/comments/", json={"post_id": post, "content": f"c{n}"},
                headers=bearer(user)).json()["id"] for n in range(5)]
    resp = api("GET", "/api/comments/", params={"post_id": post, "pagination": "cursor", "limit": 2})
    assert resp.status_code == 200 and "X-Total-Count" not in resp.headers
    assert_conforms(resp)
    pages, seen = [resp], [c["id"] for c in resp.json()]
    assert set(links(resp)) == {"next"}
    while "next" in links(pages[-1]):
        pages.append(follow(api, links(pages[-1])["next"]))
        assert_conforms(pages[-1])
        seen += [c["id"] for c in pages[-1].json()]
    assert seen == made and len(pages) == 3 and set(links(pages[-1])) == {"prev"}
    back = follow(api, links(pages[-1])["prev"])
    assert [c["id"] for c in back.json()] == made[2:4] and set(links(back)) == {"next", "prev"}
    first = follow(api, links(back)["prev"])
    assert [c["id"] for c in first.json()] == made[:2] and set(links(first)) == {"next"}
    missing = api("GET", "/api/comments/", params={"post_id": 2**40, "pagination": "cursor"})
    assert error_code(missing) == (404, "post_not_found")

"""Search and cursor pagination at the HTTP edge (contract v2 sections 3.5, 3.6).

    mode = cursor_mode(req, secret, scope)      # None: page mode; else CursorPage (or 400)
    result = rpc.read(..., mode.limit, ..., mode.direction, mode.key)
    next_url, previous_url = cursor_links(req, secret, scope, result)

`pagination=cursor` selects cursor mode, and so does a `cursor` (which the links carry);
blank values count as absent. Cursors are signed (imageboard/cursors.py) and scoped to
one list and ordering.
"""
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from contracts.errors import BadRequest, InvalidCursor, InvalidOrdering, InvalidSearch
from imageboard import cursors
from gateway.pagination import parse_page

MAX_SEARCH = 200  # characters (decision 27); the posts service checks it too
LIKES_ORDERINGS = ("likes_count", "-likes_count")
CURSOR_ORDERINGS = (None, "created_at", "-created_at")


@dataclass(frozen=True)
class CursorPage:
    limit: int
    direction: str
    key: tuple | None


def _values(req, name):
    """Non-blank values of a query parameter, from the raw query string (Falcon's
    req.params drops blank values, and a repeated one must not pass unseen)."""
    return [v for k, v in parse_qsl(req.query_string, keep_blank_values=True) if k == name and v]


def search_term(req):
    """The `search` parameter, or None when absent or blank; 400 invalid_search when over
    200 characters, repeated, or holding a NUL (which PostgreSQL text cannot)."""
    values = _values(req, "search")
    if not values:
        return None
    if len(values) > 1 or len(values[0]) > MAX_SEARCH or "\x00" in values[0]:
        raise InvalidSearch(fields={"search": f"one value of at most {MAX_SEARCH} characters"})
    return values[0] if values[0].strip() else None


def _bad_pagination(message):
    return BadRequest(message, code="invalid_pagination", fields={"pagination": message})


def cursor_mode(req, secret, scope, search=None, ordering=None):
    """None in page mode; else the CursorPage to ask for, after the rules of section 3.6:
    `page` in cursor mode, or `pagination=cursor` with search or a likes_count ordering,
    400 invalid_pagination; a cursor that does not check out, or one used with search or a
    likes_count ordering, 400 invalid_cursor."""
    pagination = _values(req, "pagination")
    tokens = _values(req, "cursor")
    if pagination and (len(pagination) > 1 or pagination[0] != "cursor"):
        raise _bad_pagination("pagination must be `cursor` (or absent: pages)")
    if not pagination and not tokens:
        return None
    if pagination:
        if _values(req, "page"):
            raise _bad_pagination("page cannot be used with pagination=cursor")
        if search is not None:
            raise _bad_pagination("pagination=cursor cannot be used with search")
        if ordering in LIKES_ORDERINGS:
            raise _bad_pagination("pagination=cursor cannot be used with a likes_count ordering")
    if tokens and (len(tokens) > 1 or search is not None or ordering in LIKES_ORDERINGS):
        raise InvalidCursor("A cursor cannot be used with search or a likes_count ordering"
                            if len(tokens) == 1 else "One cursor at most")
    if _values(req, "page"):  # a cursor alone implies cursor mode
        raise _bad_pagination("page cannot be used with a cursor")
    if ordering not in CURSOR_ORDERINGS:
        raise InvalidOrdering(f"Unknown ordering {ordering!r}",
                              fields={"ordering": "must be created_at or -created_at"})
    limit = parse_page(req).limit
    if not tokens:
        return CursorPage(limit, "next", None)
    direction, key = cursors.decode(secret, scope, tokens[0])
    return CursorPage(limit, direction, key)


def _url(req, token):
    params = [(k, v) for k, v in parse_qsl(req.query_string, keep_blank_values=True)
              if k not in ("cursor", "page", "pagination")]
    params += [("pagination", "cursor"), ("cursor", token)]
    path = req.path.rstrip("/") + "/"
    return f"{req.forwarded_prefix}{path}?{urlencode(params)}"


def cursor_links(req, secret, scope, result):
    """(next_url, previous_url) from the service's neighbour keys; None where none."""
    return tuple(_url(req, cursors.encode(secret, scope, direction, key)) if key else None
                 for direction, key in (("next", result["next"]), ("prev", result["previous"])))


def set_cursor_link_header(req, resp, secret, scope, result):
    """Comments in cursor mode: RFC 8288 `next`/`prev` only, no X-Total-Count."""
    next_url, previous_url = cursor_links(req, secret, scope, result)
    links = [(url, rel) for url, rel in ((next_url, "next"), (previous_url, "prev")) if url]
    if links:
        resp.set_header("Link", ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links))

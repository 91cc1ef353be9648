"""Contract decision 3 at the HTTP edge, for every list endpoint.

    page = parse_page(req)                       # ?page=&limit= -> Page, or 400
    result = rpc.read(..., page.page, page.limit)   # the service returns {"count", "results"}
    resp.media = envelope(req, page, result)     # {"count", "next", "previous", "results"}
  or, for lists whose body is a plain array (comments, notifications):
    resp.media = result["results"]; set_list_headers(req, resp, page, result["count"])
"""
import math
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from contracts.errors import BadRequest
from imageboard.pagination import DEFAULT_LIMIT, MAX_LIMIT, check_page

_DIGITS = re.compile(r"[0-9]{1,18}")  # < 2**63: fits a bigint id


@dataclass(frozen=True)
class Page:
    page: int
    limit: int

    @property
    def offset(self):
        return (self.page - 1) * self.limit


def query_int(req, name, default=None, code="invalid_pagination"):
    """A query parameter that must be a plain non-negative integer if present; 400
    otherwise (also when repeated: ?page=1&page=2 is ambiguous)."""
    # From the raw query string: Falcon's req.params drops blank values (?page=).
    values = [v for k, v in parse_qsl(req.query_string, keep_blank_values=True) if k == name]
    if not values:
        return default
    if len(values) > 1 or not _DIGITS.fullmatch(values[0]):
        raise BadRequest(f"{name} must be a positive integer", code=code,
                         fields={name: "must be a positive integer"})
    return int(values[0])


def parse_page(req, default_limit=DEFAULT_LIMIT, max_limit=MAX_LIMIT):
    page = query_int(req, "page", 1)
    limit = query_int(req, "limit", default_limit)
    check_page(page, limit)
    if limit > max_limit:
        raise BadRequest(f"limit must be an integer from 1 to {max_limit}", code="invalid_pagination",
                         fields={"limit": f"must be an integer from 1 to {max_limit}"})
    return Page(page, limit)


def page_url(req, page):
    """This request's absolute URL with `page` replaced; every other parameter kept."""
    params = [(k, v) for k, v in parse_qsl(req.query_string, keep_blank_values=True) if k != "page"]
    params.append(("page", str(page)))
    path = req.path.rstrip("/") + "/"
    # forwarded_prefix: behind nginx (X-Forwarded-Proto/-Host) the client's scheme and host,
    # and the app's root path (SCRIPT_NAME) already: adding root_path again doubled it.
    return f"{req.forwarded_prefix}{path}?{urlencode(params)}"


def neighbours(req, page, total):
    """(next_url, previous_url); None where there is no such page. Past the end,
    `previous` points at the last page that has rows."""
    last = max(1, math.ceil(total / page.limit))
    next_url = page_url(req, page.page + 1) if page.page < last else None
    previous_url = page_url(req, min(page.page - 1, last)) if page.page > 1 else None
    return next_url, previous_url


def envelope(req, page, result):
    next_url, previous_url = neighbours(req, page, result["count"])
    return {"count": result["count"], "next": next_url, "previous": previous_url,
            "results": result["results"]}


def set_list_headers(req, resp, page, total):
    """X-Total-Count and an RFC 8288 Link header (first, prev, next, last)."""
    next_url, previous_url = neighbours(req, page, total)
    last = max(1, math.ceil(total / page.limit))
    links = [(page_url(req, 1), "first")]
    if previous_url:
        links.append((previous_url, "prev"))
    if next_url:
        links.append((next_url, "next"))
    links.append((page_url(req, last), "last"))
    resp.set_header("X-Total-Count", str(total))
    resp.set_header("Link", ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links))

"""pydantic 2 against msgspec on the hot path of the request and response models
(docs/schemas.md has the figures and the choice). No stack is needed.

    .venv/bin/python -m bench.schema_libs [--quick]

What is timed, per call, in microseconds (best and median of REPEATS timeit runs):

- request bodies as the services receive them (a dict, after the RPC message's JSON):
  POST /api/comments/ and POST /api/posts/, valid, and a comment with two bad fields;
  contracts.schemas.load (the path the services run: nulls dropped, NUL refused, errors
  worded for the contract) and the bare model_validate, against msgspec.convert into
  Structs with the same rules (strip-then-length has to be a __post_init__ there);
- a feed page of 20 posts (GET /api/posts/): validating it (lax: its times are strings,
  parsed into datetimes as msgspec.convert does), validating and encoding it
  to JSON, encoding it only, and decoding+validating its JSON, against what the posts
  service does today (build dicts with feed_row, json.dumps them into the RPC message).
"""
import datetime
import json
import statistics
import sys
import timeit
from typing import Annotated

import msgspec
from msgspec import Meta

from contracts.errors import DomainError
from contracts.schemas import CommentCreateRequest, PostCreate, PostPage, load
from contracts.schemas.comments import CONTENT_MAX as COMMENT_MAX
from contracts.schemas.posts import CONTENT_MAX, TITLE_MAX
from contracts.schemas.types import BIGINT_MAX, ID_MAX, MAX_LIMIT
from services.posts.schemas import FEED_COLUMNS, feed_row

QUICK = "--quick" in sys.argv
REPEATS = 3 if QUICK else 7
TARGET_SECONDS = 0.05 if QUICK else 0.2  # per timeit run

COMMENT = {"post_id": 123456, "content": "  A reply of ordinary length, with a few words "
           "in it, as most comments are.  ", "parent": 98765}
BAD_COMMENT = {"post_id": "123456", "content": "   ", "parent": 98765}
POST = {"title": "An ordinary title", "content": "Some text. " * 40}
ISO = "2026-11-27T14:32:42.123456+00:00"


def feed_rows(n=20):
    return [(1000 + i, f"Title {i}", "Some text. " * 20, f"{i:064x}.jpg" if i % 2 else None,
             10 + i, f"user_{i}", None, ISO, ISO, False, i * 3, i) for i in range(n)]


CONFIG = {}


def feed_page(rows):
    """The posts service's answer as the gateway returns it (image_url made absolute)."""
    results = [feed_row(row, CONFIG) for row in rows]
    for post in results:
        if post["image_url"]:
            post["image_url"] = "http://localhost:8000" + post["image_url"]
    return {"count": 5000, "next": "http://localhost:8000/api/posts/?limit=20&page=2",
            "previous": None, "results": results}


# --- the same rules in msgspec -------------------------------------------------------------

BigId = Annotated[int, Meta(ge=1, le=BIGINT_MAX)]
Id = Annotated[int, Meta(ge=1, le=ID_MAX)]
Count = Annotated[int, Meta(ge=0)]
Aware = Annotated[datetime.datetime, Meta(tz=True)]


def _text(value, name, top):
    # msgspec's Meta(min_length/max_length) is checked before any hook could strip.
    if "\x00" in value:
        raise ValueError(f"{name}: must not contain NUL characters")
    value = value.strip()
    if not value:
        raise ValueError(f"{name}: must not be empty")
    if len(value) > top:
        raise ValueError(f"{name}: must be at most {top} characters")
    return value


class CommentCreateStruct(msgspec.Struct):
    post_id: BigId
    content: str
    parent: BigId | None = None

    def __post_init__(self):
        self.content = _text(self.content, "content", COMMENT_MAX)


class PostCreateStruct(msgspec.Struct):
    title: str
    content: str

    def __post_init__(self):
        self.title = _text(self.title, "title", TITLE_MAX)
        self.content = _text(self.content, "content", CONTENT_MAX)


class AuthorRefStruct(msgspec.Struct, forbid_unknown_fields=True):
    id: Id
    username: str


class PostSummaryStruct(msgspec.Struct, forbid_unknown_fields=True):
    id: Id
    title: str
    content: str
    image_url: str | None
    author: AuthorRefStruct
    created_at: Aware
    updated_at: Aware
    likes_count: Count
    comments_count: Count


class PostPageStruct(msgspec.Struct, forbid_unknown_fields=True):
    count: Count
    next: str | None
    previous: str | None
    results: Annotated[list[PostSummaryStruct], Meta(max_length=MAX_LIMIT)]


def msgspec_load(struct, data):
    try:
        return msgspec.convert(data, struct)
    except msgspec.ValidationError:
        return None  # one message, for the first problem only


def pydantic_load(model, data):
    try:
        return load(model, data)
    except DomainError:
        return None


# --- timing --------------------------------------------------------------------------------

def per_call_us(func):
    timer = timeit.Timer(func)
    number, _ = timer.autorange()
    number = max(1, int(number * TARGET_SECONDS / 0.2))
    runs = [t / number * 1e6 for t in timer.repeat(repeat=REPEATS, number=number)]
    return min(runs), statistics.median(runs)


def main():
    rows = feed_rows()
    assert len(rows[0]) == len(FEED_COLUMNS)
    page = feed_page(rows)
    page_json = json.dumps(page).encode()
    page_model = PostPage.model_validate(page, strict=False)
    page_struct = msgspec.convert(page, PostPageStruct)

    # Same answers, or the comparison means nothing.
    assert load(CommentCreateRequest, COMMENT) == msgspec.structs.asdict(
        msgspec.convert(COMMENT, CommentCreateStruct))
    assert load(PostCreate, POST) == msgspec.structs.asdict(msgspec.convert(POST, PostCreateStruct))
    assert json.loads(page_model.model_dump_json()) == json.loads(msgspec.json.encode(page_struct))
    assert pydantic_load(CommentCreateRequest, BAD_COMMENT) is None
    assert msgspec_load(CommentCreateStruct, BAD_COMMENT) is None

    cases = [
        ("POST /api/comments/ body, valid", [
            ("pydantic: contracts.schemas.load", lambda: load(CommentCreateRequest, COMMENT)),
            ("pydantic: model_validate only", lambda: CommentCreateRequest.model_validate(COMMENT)),
            ("msgspec: convert into a Struct", lambda: msgspec.convert(COMMENT, CommentCreateStruct)),
        ]),
        ("POST /api/posts/ body, valid", [
            ("pydantic: contracts.schemas.load", lambda: load(PostCreate, POST)),
            ("pydantic: model_validate only", lambda: PostCreate.model_validate(POST)),
            ("msgspec: convert into a Struct", lambda: msgspec.convert(POST, PostCreateStruct)),
        ]),
        ("POST /api/comments/ body, 2 bad fields", [
            ("pydantic: load -> ValidationFailed, both fields",
             lambda: pydantic_load(CommentCreateRequest, BAD_COMMENT)),
            ("msgspec: ValidationError, first field only",
             lambda: msgspec_load(CommentCreateStruct, BAD_COMMENT)),
        ]),
        ("feed page, 20 posts", [
            ("today: 20 x feed_row (build the dicts)", lambda: feed_page(rows)),
            ("today: json.dumps(page) (into the RPC message)", lambda: json.dumps(page)),
            ("pydantic: PostPage.model_validate(page)",
             lambda: PostPage.model_validate(page, strict=False)),
            ("pydantic: validate + model_dump_json",
             lambda: PostPage.model_validate(page, strict=False).model_dump_json()),
            ("pydantic: model_dump_json of a built model", page_model.model_dump_json),
            ("pydantic: model_validate_json(bytes)",
             lambda: PostPage.model_validate_json(page_json)),
            ("msgspec: convert(page, PostPageStruct)",
             lambda: msgspec.convert(page, PostPageStruct)),
            ("msgspec: convert + json.encode",
             lambda: msgspec.json.encode(msgspec.convert(page, PostPageStruct))),
            ("msgspec: json.encode of a built Struct", lambda: msgspec.json.encode(page_struct)),
            ("msgspec: json.encode(page) (plain dict)", lambda: msgspec.json.encode(page)),
            ("msgspec: json.decode(bytes, type=PostPageStruct)",
             lambda: msgspec.json.decode(page_json, type=PostPageStruct)),
        ]),
    ]
    print(f"python {sys.version.split()[0]}, pydantic {_version('pydantic')}, "
          f"pydantic-core {_version('pydantic_core')}, msgspec {msgspec.__version__}; "
          f"best / median of {REPEATS} runs, microseconds per call")
    for title, variants in cases:
        print(f"\n{title}")
        for name, func in variants:
            best, median = per_call_us(func)
            print(f"  {name:<50} {best:8.2f} {median:8.2f}")


def _version(module):
    return __import__(module).__version__


if __name__ == "__main__":
    main()

"""POST /api/posts/ (its form), the feed GET /api/posts/, GET /api/posts/{id}/ and the
like toggle."""
from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema

from contracts.schemas.common import AuthorRef
from contracts.schemas.types import (MAX_LIMIT, STRIPPED, Count, Id, Request, Response, Timestamp,
                                     Url, omittable)

TITLE_MAX = 255
CONTENT_MAX = 5000  # the original specification's limit


class PostCreate(Request):
    """What the posts service checks, from a form or a JSON body."""

    title: Annotated[str, Field(min_length=1, max_length=TITLE_MAX), STRIPPED]
    content: Annotated[str, Field(min_length=1, max_length=CONTENT_MAX), STRIPPED]


Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX), STRIPPED]
Content = Annotated[str, Field(min_length=1, max_length=CONTENT_MAX), STRIPPED]


class PostUpdate(Request):
    """PATCH /api/posts/{id}/ (contract v2 section 4.1): either or both, the rules of
    creation; neither (or both null) is 400 missing_fields. JSON only: the image stays."""

    title: Title | None = None
    content: Content | None = None


class PostCreateForm(PostCreate):
    image: Annotated[bytes, WithJsonSchema({
        "type": "string", "contentMediaType": "application/octet-stream",
        "description": "JPEG or PNG, at most 5 MB; decoded, re-encoded without metadata "
                       "(decision 10)."})] = omittable()


class PostSummary(Response):
    id: Id
    title: str
    content: str
    image_url: Url | None
    author: AuthorRef
    created_at: Timestamp
    updated_at: Timestamp
    edited: bool = Field(description="True once the author changed title or content.")
    likes_count: Count
    comments_count: Count


class PostPage(Response):
    count: Count
    next: Url | None = Field(description="Absolute URL keeping the other parameters.")
    previous: Url | None
    results: list[PostSummary] = Field(max_length=MAX_LIMIT)


class PostCursorPage(Response):
    """Contract v2 section 3.6: a keyset page of the feed, without count."""

    next: Url | None = Field(description="Absolute URL with the next page's cursor.")
    previous: Url | None = Field(description="null on the first page.")
    results: list[PostSummary] = Field(max_length=MAX_LIMIT)


class PostCreated(Response):
    id: Id
    title: str
    content: str
    image_url: Url | None
    author: Id
    created_at: Timestamp
    likes_count: Literal[0]


class LikeRef(Response):
    user_id: Id
    username: str


class PostDetail(PostSummary):
    """A feed row plus who liked it (the answer lists `likes` before the counters) and
    whether it is removed; admins also get `removed_reason`."""
    likes: list[LikeRef]
    removed: bool
    removed_reason: str | None = omittable(description="Admins only (contract v2 section 4.3).")


class RemovalRequest(Request):
    """POST .../remove/ and .../restore/ (contract v2 section 4.3)."""

    reason: Annotated[str, Field(min_length=1, max_length=500), STRIPPED]


class LikeToggled(Response):
    """Decision 4: `liked` is the state after the call."""

    post_id: Id
    liked: bool
    likes_count: Count
    message: str

"""POST /api/comments/ and the comment list GET /api/comments/?post_id=."""
from typing import Annotated

from pydantic import Field

from contracts.schemas.common import AuthorRef
from contracts.schemas.types import STRIPPED, BigId, Id, Request, Response, Timestamp, omittable

CONTENT_MAX = 1000  # the original specification's limit


class CommentCreateRequest(Request):
    post_id: BigId
    content: Annotated[str, Field(min_length=1, max_length=CONTENT_MAX), STRIPPED]
    parent: BigId | None = Field(default=None, description="A comment of the same post.")


class CommentUpdate(Request):
    """PATCH /api/comments/{id}/ (contract v2 section 4.1): the rules of creation."""

    content: Annotated[str, Field(min_length=1, max_length=CONTENT_MAX), STRIPPED]


class Comment(Response):
    id: Id
    post_id: Id
    author: AuthorRef | None = Field(description="null for a placeholder (contract v2 section 4.2).")
    content: str
    created_at: Timestamp
    updated_at: Timestamp
    parent: Id | None
    edited: bool = Field(description="True once the author changed the content.")
    is_deleted: bool = Field(description="A deleted comment kept as a placeholder for its replies.")
    removed: bool = Field(description="Removed by an admin; a placeholder unless an admin asks.")
    removed_reason: str | None = omittable(
        description="Comment detail and remove/restore answers to admins only.")


class CommentCreated(Response):
    id: Id
    post_id: Id
    author: Id
    content: str
    created_at: Timestamp
    parent: Id | None

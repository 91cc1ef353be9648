"""The notification list, mark-read, the unread count, mark-all-read; and the operators'
broadcast (nameko shell, not HTTP)."""
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from contracts.schemas.types import STRIPPED, Count, Id, Request, Response, Timestamp, omittable

MESSAGE_MAX = 1000


class Broadcast(Request):
    """A SYSTEM message to every user (imageboard broadcast / nameko shell)."""

    message: Annotated[str, Field(min_length=1, max_length=MESSAGE_MAX), STRIPPED]


class NotificationData(Response):
    # Open: what it refers to depends on the type; these are the keys the contract names.
    model_config = ConfigDict(extra="allow")

    post_id: int = omittable()
    comment_id: int = omittable()
    actor_id: int | None = omittable()


class Notification(Response):
    id: Id
    type: Literal["LIKE", "COMMENT", "REPLY", "SYSTEM"]
    message: str
    data: NotificationData
    read: bool
    created_at: Timestamp


class NotificationRead(Response):
    id: Id
    read: bool


class UnreadCount(Response):
    unread_count: Count


class MarkedAllRead(Response):
    marked: Count

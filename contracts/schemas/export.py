"""GET /api/users/me/export/ (contract v2 section 6.4): everything the caller made and
received, oldest first."""
from pydantic import Field

from contracts.schemas.comments import Comment
from contracts.schemas.moderation import Report
from contracts.schemas.notifications import Notification
from contracts.schemas.posts import PostDetail
from contracts.schemas.types import Id, Response, Timestamp
from contracts.schemas.users import Me


class ExportPost(PostDetail):
    removed: bool
    removed_reason: str | None


class ExportLike(Response):
    post_id: Id
    created_at: Timestamp


class Export(Response):
    exported_at: Timestamp
    profile: Me
    posts: list[ExportPost]
    comments: list[Comment]
    likes: list[ExportLike]
    notifications: list[Notification]
    reports: list[Report] = Field(description="Reports the caller made (the moderation "
                                              "service), resolution.resolved_by null.")

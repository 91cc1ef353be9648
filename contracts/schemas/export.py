"""GET /api/users/me/export/ (contract v2 section 6.4): everything the caller made and
received, oldest first. Reports join when the moderation service exists (issue 18)."""
from pydantic import Field

from contracts.schemas.comments import Comment
from contracts.schemas.notifications import Notification
from contracts.schemas.posts import PostDetail
from contracts.schemas.types import Count, Id, Response, Timestamp, Url


class ExportProfile(Response):
    """"me" of section 3.1 (until GET /api/users/me/ brings its own model: then use it)."""

    id: Id
    username: str
    first_name: str
    last_name: str
    bio: str
    avatar_url: Url | None
    created_at: Timestamp
    posts_count: Count
    comments_count: Count
    email: str
    is_admin: bool
    ban: None = Field(description="The caller's current ban (bans come with the moderation "
                                  "service); null when not banned.")


class ExportPost(PostDetail):
    removed: bool
    removed_reason: str | None


class ExportLike(Response):
    post_id: Id
    created_at: Timestamp


class Export(Response):
    exported_at: Timestamp
    profile: ExportProfile
    posts: list[ExportPost]
    comments: list[Comment]
    likes: list[ExportLike]
    notifications: list[Notification]
    reports: list[dict] = Field(description="Reports the caller made (the moderation "
                                            "service); empty until it exists.")

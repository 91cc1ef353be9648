"""GET /api/analytics/posts/stats/, /api/analytics/user-activity/ (decision 9) and
/api/analytics/moderation/ (contract v2 section 8.3)."""
from typing import Literal

from pydantic import Field

from contracts.schemas.types import Count, Date, Id, Ratio, Response

ACTIVITY_DAYS = 30


class Period(Response):
    start_date: Date
    end_date: Date


class ActiveUser(Response):
    user_id: Id
    username: str
    posts_count: Count


class MostLikedPost(Response):
    post_id: Id
    title: str
    likes_count: Count


class LikesStatistics(Response):
    total_likes: Count
    avg_likes_per_post: Ratio
    most_liked_post: MostLikedPost | None = Field(description="null when the period has no posts.")


class PostStats(Response):
    period: Period
    total_posts: Count
    posts_per_day: Ratio
    most_active_users: list[ActiveUser]
    likes_statistics: LikesStatistics


class ActivityDay(Response):
    date: Date
    posts: Count
    comments: Count
    likes: Count


class UserActivity(Response):
    user_id: Id
    period: Literal["last_30_days"]
    posts_created: Count
    comments_written: Count
    likes_given: Count
    activity_timeline: list[ActivityDay] = Field(
        min_length=ACTIVITY_DAYS, max_length=ACTIVITY_DAYS,
        description="One entry per day, oldest first, zeros included (decision 9).")


class ReportsDay(Response):
    date: Date
    created: Count
    resolved: Count


class RemovalReason(Response):
    reason: str
    count: Count


class ModerationStats(Response):
    period: Period
    open_reports: Count = Field(description="Reports open now, whatever the period.")
    reports_per_day: list[ReportsDay] = Field(
        description="One entry per day of the period, oldest first, zeros included.")
    median_time_to_resolve_seconds: float | None = Field(
        description="Over the reports resolved in the period; null if none was.")
    removals_by_reason: list[RemovalReason] = Field(
        max_length=20, description="Post and comment removals in the period by exact reason, "
                                   "most first, ties by reason.")

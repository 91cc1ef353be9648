"""Reports, bans and the modlog (contract v2 sections 5.1-5.3): requests and responses."""
from typing import Annotated, Literal

from pydantic import Field

from contracts.schemas.types import STRIPPED, BigId, Count, Id, Request, Response, Timestamp

REPORT_STATUSES = ("open", "resolved")
MODLOG_ACTIONS = ("remove_post", "restore_post", "remove_comment", "restore_comment",
                  "delete_post", "delete_comment", "ban_user", "unban_user", "resolve_report")
DETAILS_MAX = 1000
NOTE_MAX = 1000
BAN_REASON_MAX = 500
BAN_DAYS_MAX = 3650

Days = Annotated[int, Field(ge=1, le=BAN_DAYS_MAX)]


class ReportCreate(Request):
    """POST /api/reports/. `details` is required (non-blank) when `reason` is `other`."""

    target_type: Literal["post", "comment"]
    target_id: BigId
    reason: Literal["spam", "abuse", "illegal", "other"]
    details: Annotated[str, Field(max_length=DETAILS_MAX), STRIPPED] = ""


class ReportResolve(Request):
    """POST /api/reports/{id}/resolve/. `ban_days` must be sent with `ban` (null =
    permanent) and is refused with another action."""

    action: Literal["dismiss", "remove", "ban"]
    note: Annotated[str, Field(max_length=NOTE_MAX), STRIPPED] = ""
    ban_days: Days | None = None


class BanCreate(Request):
    """POST /api/users/{id}/ban/: `days` must be sent (null = permanent)."""

    reason: Annotated[str, Field(min_length=1, max_length=BAN_REASON_MAX), STRIPPED]
    days: Days | None = None


class BanLift(Request):
    """DELETE /api/users/{id}/ban/ (optional body)."""

    reason: Annotated[str, Field(max_length=BAN_REASON_MAX), STRIPPED] = ""


class UserRef(Response):
    id: Id
    username: str


class ReportTarget(Response):
    """The target as it was when reported (decision 9); blanked if its author was erased."""

    author: UserRef | None
    title: str | None = Field(description="Posts only.")
    content: str


class Resolution(Response):
    action: Literal["dismiss", "remove", "ban"]
    note: str
    ban_days: Days | None
    resolved_by: UserRef | None
    resolved_at: Timestamp


class Report(Response):
    id: Id
    target_type: Literal["post", "comment"]
    target_id: Id
    post_id: Id
    reason: Literal["spam", "abuse", "illegal", "other"]
    details: str
    status: Literal["open", "resolved"]
    reporter: UserRef | None
    target: ReportTarget
    created_at: Timestamp
    resolution: Resolution | None


class ReportPage(Response):
    count: Count
    next: str | None
    previous: str | None
    results: list[Report]


class BanRecord(Response):
    user_id: Id
    reason: str
    created_at: Timestamp
    expires_at: Timestamp | None = Field(description="null: permanent.")


class ModlogEntry(Response):
    id: Id
    action: Literal["remove_post", "restore_post", "remove_comment", "restore_comment",
                    "delete_post", "delete_comment", "ban_user", "unban_user", "resolve_report"]
    target_type: Literal["post", "comment", "user", "report"]
    target_id: Id
    reason: str
    created_at: Timestamp
    expires_at: Timestamp | None
    moderator: UserRef | None = Field(default=None, description="Only to admins.")


class ModlogPage(Response):
    count: Count
    next: str | None
    previous: str | None
    results: list[ModlogEntry]

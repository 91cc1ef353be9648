"""Every request and response body of the HTTP API as a pydantic model, declared once.

The services validate request bodies with load(Model, data) (contracts.schemas.loading);
gateway/openapi.py builds components.schemas of the OpenAPI document from these models;
the tests check real responses and the services' response builders against them. Each
limit (title length, page size...) is stated here and nowhere else. docs/schemas.md says
why pydantic and not msgspec.
"""
from contracts.schemas.analytics import (ActiveUser, ActivityDay, LikesStatistics,
                                         ModerationStats, MostLikedPost, Period, PostStats,
                                         RemovalReason, ReportsDay, UserActivity)
from contracts.schemas.comments import Comment, CommentCreated, CommentCreateRequest, CommentUpdate
from contracts.schemas.common import AuthorRef, Error, ErrorBody, Health, Ready
from contracts.schemas.export import Export, ExportLike, ExportPost
from contracts.schemas.loading import load
from contracts.schemas.moderation import (BanCreate, BanLift, BanRecord, ModlogEntry,
                                          ModlogPage, Report, ReportCreate, ReportPage,
                                          ReportResolve, ReportTarget, Resolution, UserRef)
from contracts.schemas.notifications import (Broadcast, MarkedAllRead, Notification,
                                             NotificationData, NotificationRead, UnreadCount)
from contracts.schemas.posts import (LikeRef, LikeToggled, PostCreate, PostCreated,
                                     PostCreateForm, PostCursorPage, PostDetail, PostPage,
                                     PostSummary, PostUpdate, RemovalRequest)
from contracts.schemas.types import DEFAULT_LIMIT, MAX_LIMIT
from contracts.schemas.users import (EDITABLE_FIELDS, AvatarForm, Ban, DeleteAccountRequest, LoggedIn,
                                     LoginRequest, Me, PasswordChangeRequest, Profile,
                                     ProfileUpdate, RegisterRequest, Registered,
                                     StreamTicket)

__all__ = [
    "load", "DEFAULT_LIMIT", "MAX_LIMIT",
    "Error", "ErrorBody", "AuthorRef", "Health", "Ready",
    "RegisterRequest", "Registered", "LoginRequest", "LoggedIn", "Profile",
    "Me", "Ban", "ProfileUpdate", "AvatarForm", "EDITABLE_FIELDS", "PasswordChangeRequest",
    "DeleteAccountRequest", "StreamTicket",
    "PostCreate", "PostCreateForm", "PostSummary", "PostPage", "PostCursorPage", "PostCreated", "LikeRef",
    "PostDetail", "LikeToggled", "PostUpdate", "RemovalRequest",
    "CommentCreateRequest", "Comment", "CommentCreated", "CommentUpdate",
    "Broadcast", "NotificationData", "Notification", "NotificationRead", "UnreadCount",
    "MarkedAllRead",
    "Period", "ActiveUser", "MostLikedPost", "LikesStatistics", "PostStats", "ActivityDay",
    "UserActivity", "ReportsDay", "RemovalReason", "ModerationStats",
    "Export", "ExportPost", "ExportLike",
    "ReportCreate", "ReportResolve", "BanCreate", "BanLift", "UserRef", "ReportTarget",
    "Resolution", "Report", "ReportPage", "BanRecord", "ModlogEntry", "ModlogPage",
]

"""The gateway's app factory (Falcon's `look` example shape): collaborators are injected,
resources are thin, auth is middleware, errors are handled in one place."""
import falcon

from gateway.auth import AuthMiddleware
from gateway.errors import register_error_handlers
from gateway.media import JSONHandler
from gateway.media_files import add_media_route
from gateway.metrics import MetricsResource, PrometheusMiddleware
from gateway.ratelimit import RateLimitMiddleware
from gateway.middleware import (DrainUnreadBodyMiddleware, RequestIdMiddleware,
                                SecurityHeadersMiddleware)
from gateway.resources.comments import (CommentRemoveResource, CommentResource,
                                        CommentRestoreResource, CommentsResource)
from gateway.resources.analytics import (ModerationStatsResource, PostStatsResource,
                                         UserActivityResource)
from gateway.resources.docs import DocsAssetResource, DocsResource, OpenApiResource
from gateway.resources.export import ExportResource
from gateway.resources.health import HealthResource, ReadyResource
from gateway.resources.me import AvatarResource, MeResource
from gateway.resources.moderation import (BanResource, ModlogResource, ReportResolveResource,
                                          ReportsResource)
from gateway.resources.notifications import (MarkAllReadResource, MarkReadResource,
                                             NotificationsResource, UnreadCountResource)
from gateway.resources.posts import (PostLikeResource, PostRemoveResource, PostResource,
                                     PostRestoreResource, PostsResource)
from gateway.resources.stream import StreamTicketResource
from gateway.resources.sessions import LogoutAllResource, LogoutResource, PasswordResource
from gateway.resources.users import LoginResource, ProfileResource, RegisterResource
from gateway.rpc import RpcClient
from gateway.write_guard import WriteGuardMiddleware
from imageboard.access.feed import start_access_feed


def create_app(config, rpc=None, limiter=None, access=None):
    """`access`: the process's AccessState; by default one fed by the access feed (a
    thread per process: create_app runs in each gunicorn worker, after the fork)."""
    rpc = rpc or RpcClient(config)
    services = config["SERVICES"]
    access = access if access is not None else start_access_feed(config, rpc)

    # process_resource runs in this order, so the checks answer in the order of contract
    # v2 section 3.2: 401 (AuthMiddleware), then 403 (the ban and admin checks go here,
    # between the two), then 429 (RateLimitMiddleware), then the responders' own.
    app = falcon.App(middleware=[PrometheusMiddleware(), RequestIdMiddleware(),
                                 SecurityHeadersMiddleware(), DrainUnreadBodyMiddleware(),
                                 AuthMiddleware(config["JWT_SECRET"], access),
                                 WriteGuardMiddleware(),
                                 RateLimitMiddleware(config, limiter)])
    # /api/users/login/ and /api/users/login both route.
    app.req_options.strip_url_path_trailing_slash = True
    json_handler = JSONHandler()
    app.req_options.media_handlers[falcon.MEDIA_JSON] = json_handler
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = json_handler
    register_error_handlers(app)

    app.add_route("/health", HealthResource())
    app.add_route("/ready", ReadyResource(rpc, services, access))
    app.add_route("/metrics", MetricsResource())
    app.add_route("/api/openapi.json", OpenApiResource())
    app.add_route("/api/docs", DocsResource())
    app.add_route("/api/docs/assets/{name}", DocsAssetResource())
    app.add_route("/api/users/register", RegisterResource(rpc))
    app.add_route("/api/users/login", LoginResource(rpc))
    app.add_route("/api/users/logout", LogoutResource(rpc))
    app.add_route("/api/users/logout-all", LogoutAllResource(rpc))
    app.add_route("/api/users/me/password", PasswordResource(rpc))
    app.add_route("/api/users/profile/{user_id:int(min=1)}", ProfileResource(rpc, services))
    app.add_route("/api/users/me", MeResource(rpc, services))
    app.add_route("/api/users/me/avatar", AvatarResource(rpc, config))
    app.add_route("/api/users/me/export", ExportResource(rpc, services))
    app.add_route("/api/analytics/posts/stats", PostStatsResource(rpc))
    app.add_route("/api/analytics/user-activity", UserActivityResource(rpc))
    app.add_route("/api/analytics/moderation", ModerationStatsResource(rpc))
    app.add_route("/api/posts", PostsResource(rpc, config))
    app.add_route("/api/posts/{post_id:int(min=1)}", PostResource(rpc))
    app.add_route("/api/posts/{post_id:int(min=1)}/like", PostLikeResource(rpc))
    app.add_route("/api/posts/{post_id:int(min=1)}/remove", PostRemoveResource(rpc))
    app.add_route("/api/posts/{post_id:int(min=1)}/restore", PostRestoreResource(rpc))
    app.add_route("/api/comments", CommentsResource(rpc, config))
    app.add_route("/api/comments/{comment_id:int(min=1)}", CommentResource(rpc))
    app.add_route("/api/comments/{comment_id:int(min=1)}/remove", CommentRemoveResource(rpc))
    app.add_route("/api/comments/{comment_id:int(min=1)}/restore", CommentRestoreResource(rpc))
    app.add_route("/api/notifications", NotificationsResource(rpc))
    app.add_route("/api/notifications/unread-count", UnreadCountResource(rpc))
    app.add_route("/api/notifications/mark-all-read", MarkAllReadResource(rpc))
    app.add_route("/api/notifications/{notification_id:int(min=1)}/mark-read", MarkReadResource(rpc))
    # Contract v2 section 5 (the moderation service).
    app.add_route("/api/reports", ReportsResource(rpc))
    app.add_route("/api/reports/{report_id:int(min=1)}/resolve", ReportResolveResource(rpc))
    app.add_route("/api/users/{user_id:int(min=1)}/ban", BanResource(rpc))
    app.add_route("/api/modlog", ModlogResource(rpc))
    app.add_route("/api/stream/ticket", StreamTicketResource(config))
    add_media_route(app, config)
    return app

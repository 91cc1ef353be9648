"""The gateway's app factory (Falcon's `look` example shape): collaborators are injected,
resources are thin, auth is middleware, errors are handled in one place."""
import falcon

from gateway.auth import AuthMiddleware
from gateway.errors import register_error_handlers
from gateway.media import JSONHandler
from gateway.media_files import add_media_route
from gateway.metrics import MetricsResource, PrometheusMiddleware
from gateway.middleware import (DrainUnreadBodyMiddleware, RequestIdMiddleware,
                                SecurityHeadersMiddleware)
from gateway.resources.account import MeResource
from gateway.resources.comments import CommentsResource
from gateway.resources.analytics import PostStatsResource, UserActivityResource
from gateway.resources.docs import DocsResource, OpenApiResource
from gateway.resources.health import HealthResource, ReadyResource
from gateway.resources.notifications import (MarkAllReadResource, MarkReadResource,
                                             NotificationsResource, UnreadCountResource)
from gateway.resources.posts import PostLikeResource, PostResource, PostsResource
from gateway.resources.users import LoginResource, ProfileResource, RegisterResource
from gateway.rpc import RpcClient


def create_app(config, rpc=None):
    rpc = rpc or RpcClient(config)
    services = config["SERVICES"]

    app = falcon.App(middleware=[PrometheusMiddleware(), RequestIdMiddleware(),
                                 SecurityHeadersMiddleware(), DrainUnreadBodyMiddleware(),
                                 AuthMiddleware(config["JWT_SECRET"])])
    # /api/users/login/ and /api/users/login both route.
    app.req_options.strip_url_path_trailing_slash = True
    json_handler = JSONHandler()
    app.req_options.media_handlers[falcon.MEDIA_JSON] = json_handler
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = json_handler
    register_error_handlers(app)

    app.add_route("/health", HealthResource())
    app.add_route("/ready", ReadyResource(rpc, services))
    app.add_route("/metrics", MetricsResource())
    app.add_route("/api/openapi.json", OpenApiResource())
    app.add_route("/api/docs", DocsResource())
    app.add_route("/api/users/register", RegisterResource(rpc))
    app.add_route("/api/users/login", LoginResource(rpc))
    app.add_route("/api/users/me", MeResource(rpc))
    app.add_route("/api/users/profile/{user_id:int(min=1)}", ProfileResource(rpc, services))
    app.add_route("/api/analytics/posts/stats", PostStatsResource(rpc))
    app.add_route("/api/analytics/user-activity", UserActivityResource(rpc))
    app.add_route("/api/posts", PostsResource(rpc, config))
    app.add_route("/api/posts/{post_id:int(min=1)}", PostResource(rpc))
    app.add_route("/api/posts/{post_id:int(min=1)}/like", PostLikeResource(rpc))
    app.add_route("/api/comments", CommentsResource(rpc))
    app.add_route("/api/notifications", NotificationsResource(rpc))
    app.add_route("/api/notifications/unread-count", UnreadCountResource(rpc))
    app.add_route("/api/notifications/mark-all-read", MarkAllReadResource(rpc))
    app.add_route("/api/notifications/{notification_id:int(min=1)}/mark-read", MarkReadResource(rpc))
    add_media_route(app, config)
    return app

"""The OpenAPI 3.1 document of the whole HTTP API (../shared/spec/api-contract.md).

components.schemas is generated from the pydantic models of contracts.schemas, the same
models the services validate request bodies with: a limit or a field is declared once,
there. Response models are closed (extra="forbid" -> additionalProperties: false: the
contract allows no extra fields); request models are open (unknown fields are ignored).
The paths and operations are data, built by small helpers so the cross-cutting parts (the
error body of decision 1, the pagination headers of decision 3, X-Request-ID, 401/503/504
on every RPC-backed operation) are written once.

tests/unit/test_openapi_unit.py compares the paths and methods here with the gateway's
router and checks the document against the OpenAPI 3.1 meta-schema;
tests/e2e/test_openapi.py validates real responses against it; tests/e2e/test_fuzz_api.py
drives schemathesis from it.
"""
import copy
import functools
import re

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from contracts.schemas import (AvatarForm, Comment, CommentCreated, CommentCreateRequest,
                               CommentUpdate, DeleteAccountRequest, Error, PostUpdate,
                               RemovalRequest,
                               Export, Health, LikeToggled, LoggedIn, LoginRequest, MarkedAllRead,
                               Me, ModerationStats, Notification, ProfileUpdate,
                               NotificationRead, PostCreated, PostCreateForm, PostDetail,
                               PasswordChangeRequest, PostCursorPage, PostPage, PostStats, Profile, Ready,
                               Registered, RegisterRequest, StreamTicket, UnreadCount,
                               UserActivity)
from contracts.schemas import (BanCreate, BanLift, BanRecord, ModlogPage, Report, ReportCreate,
                               ReportPage, ReportResolve)
from contracts.schemas.moderation import MODLOG_ACTIONS, REPORT_STATUSES
from contracts.schemas.types import DEFAULT_LIMIT, MAX_LIMIT, Id
from gateway.openapi_text import readable_document
from gateway.ratelimit import RULES
from gateway.write_guard import is_write
from imageboard.pagination import MAX_PAGE

REF_TEMPLATE = "#/components/schemas/{model}"
MODELS = []  # every model a path refers to, in order of first reference


class ComponentSchema(GenerateJsonSchema):
    """JSON Schema 2020-12 as pydantic writes it, without the titles it makes up from class
    and field names (the component's name already says it), descriptions as API users read
    them (gateway/openapi_text.py)."""

    def field_title_should_be_set(self, schema):
        return False

    def model_schema(self, schema):
        generated = super().model_schema(schema)
        generated.pop("title", None)
        return readable_document(generated)


def components(models):
    """{name: JSON Schema} of the models and of every model they contain."""
    _, defs = models_json_schema([(model, "validation") for model in models],
                                 ref_template=REF_TEMPLATE, schema_generator=ComponentSchema)
    schemas = defs.get("$defs", {})
    # pydantic names a definition after its class unless two classes share a name: then
    # ref() would point at nothing.
    unnamed = [model.__qualname__ for model in models if model.__name__ not in schemas]
    if unnamed:
        raise RuntimeError(f"models with a name another model has too: {unnamed}")
    return schemas


def ref(model):
    if model not in MODELS:
        MODELS.append(model)
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


INT_ID = TypeAdapter(Id).json_schema()

REQUEST_ID = {"description": "The caller's X-Request-ID (if short and plain) or a new one; "
                             "it is in every log line of the request.",
              "schema": {"type": "string"}}
PAGINATION_HEADERS = {
    "X-Total-Count": {"description": "Items in the whole list (decision 3); not in cursor mode.",
                      "schema": {"type": "integer", "minimum": 0}},
    "Link": {"description": "RFC 8288 `next`/`prev` neighbours, absolute URLs.",
             "schema": {"type": "string"}},
}

ERRORS = {
    400: "Bad request: not JSON, a required field or parameter missing, a bad query value.",
    401: "Missing, malformed, expired or wrongly signed token (decision 11), or a revoked one "
         "(v2 §3.3: `token_revoked`, also a token without `jti`).",
    403: "Authenticated, but not allowed (a banned user's write: `user_banned` with `details`).",
    404: "Not found.",
    409: "Conflict with the current state (v2: `conflict`, `already_resolved`, `already_removed`, `not_removed`).",
    413: "Body too large.",
    414: "Request line (path and query) over 4094 bytes (gunicorn's limit; nginx's: 8 KB).",
    422: "Fields present with invalid values (decision 1).",
    429: "Rate limited (nginx, per client IP).",
    503: "A service or its dependency is unreachable.",
    504: "The service did not answer within RPC_TIMEOUT.",
}
ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    429: {"Retry-After": {"schema": {"type": "string"}}},
    503: {"Retry-After": {"schema": {"type": "string"}}},
}


def json_response(description, schema, headers=None):
    return {"description": description,
            "headers": {"X-Request-ID": REQUEST_ID, **(headers or {})},
            "content": {"application/json": {"schema": schema}}}


def linked(response, **links):
    """OpenAPI links: where an id in this response can be used next (schemathesis's
    stateful phase follows them). A link is (operationId, parameter, field of this body),
    or (operationId, {field of the next request's body: field of this body})."""
    response["links"] = {}
    for name, (op_id, target, *field) in links.items():
        if isinstance(target, dict):
            link = {"requestBody": {key: f"$response.body#/{value}"
                                    for key, value in target.items()}}
        else:
            link = {"parameters": {target: f"$response.body#/{field[0]}"}}
        response["links"][name] = {"operationId": op_id, **link}
    return response


def error(status, description=None):
    return json_response(description or ERRORS[status], ref(Error), ERROR_HEADERS.get(status))


def query(name, schema, description="", required=False):
    """A query parameter. An optional one given empty (`?page=`) counts as absent: the
    gateway (falcon) drops blank values, as DRF ignores them."""
    if not required:
        schema = {"anyOf": [schema, {"const": ""}]}
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description}


def path_id(name="id", description="Numeric id"):
    return {"name": name, "in": "path", "required": True, "schema": INT_ID,
            "description": description}


PAGE = query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
             "Page number, from 1; past the end gives an empty page.")
LIMIT = query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                        "default": DEFAULT_LIMIT},
              f"Items per page, at most {MAX_LIMIT}.")
# Contract v2 section 3.6 (gateway/cursors.py).
PAGINATION = query("pagination", {"type": "string", "enum": ["cursor"]},
                   "`cursor`: keyset pages on (created_at, id) with next/previous cursors; "
                   "not with `page` (400 invalid_pagination).")
CURSOR = query("cursor", {"type": "string", "maxLength": 400},
               "Opaque, from a next/previous link (implies cursor mode); altered, or from "
               "another list or ordering: 400 invalid_cursor.")
SEARCH = query("search", {"type": "string", "maxLength": 200},
               "Full-text search over title and content (websearch syntax: words, "
               "\"phrase\", -word, or); ranked unless `ordering`; over 200 characters 400 "
               "invalid_search; not with cursor pagination (400 invalid_pagination).")


def operation(tag, summary, responses, *, description="", auth=False, rpc=True,
              params=(), body=None, errors=(), operation_id=None):
    """One operation. Every operation may answer 401 (a bad token is rejected even on
    public endpoints) and 414 (a request line too long for gunicorn or nginx); RPC-backed
    ones may answer 503 and 504."""
    statuses = set(errors) | {401, 414}
    if rpc:
        statuses |= {503, 504}
    op = {"tags": [tag], "summary": summary, "operationId": operation_id,
          "responses": {**{str(s): r for s, r in responses.items()},
                        **{str(s): error(s) for s in sorted(statuses)}}}
    if description:
        op["description"] = description
    if params:
        op["parameters"] = list(params)
    if body:
        op["requestBody"] = body
    if auth:
        op["security"] = [{"bearerAuth": []}]
    return op


def json_body(model):
    return {"required": True, "content": {"application/json": {"schema": ref(model)}}}


PATHS = {
    "/health": {"get": operation(
        "operations", "Liveness: the gateway process answers", rpc=False,
        responses={200: json_response("Alive", ref(Health))}, operation_id="health")},
    "/ready": {"get": operation(
        "operations", "Readiness: RabbitMQ reachable and every service answers a ping",
        rpc=False, operation_id="ready",
        responses={200: json_response("Ready", ref(Ready)),
                   503: json_response("Some part is not ready", ref(Ready))})},
    "/metrics": {"get": operation(
        "operations", "Prometheus metrics of this gateway process", rpc=False,
        operation_id="metrics",
        responses={200: {"description": "Prometheus text exposition format",
                         "headers": {"X-Request-ID": REQUEST_ID},
                         "content": {"text/plain": {"schema": {"type": "string"}}}}})},
    "/media/{name}": {"get": operation(
        "posts", "An uploaded image or its thumbnail (nginx serves it in production)",
        rpc=False, operation_id="media", errors=(404,),
        params=[{"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "File name from image_url (content hash)"}],
        responses={200: {"description": "The image", "headers": {"X-Request-ID": REQUEST_ID},
                         "content": {"image/jpeg": {"schema": {}},
                                     "image/png": {"schema": {}}}}})},
    "/api/openapi.json": {"get": operation(
        "documentation", "This document", rpc=False, operation_id="openapi",
        responses={200: json_response("OpenAPI 3.1 document", {"type": "object"})})},
    "/api/docs/": {"get": operation(
        "documentation", "This document as an interactive page (Swagger UI)", rpc=False,
        operation_id="docs", errors=(400,),
        description="Swagger UI with try-it (Authorize takes a Bearer token); "
                    "format=plain gives the same as HTML without JavaScript.",
        params=[query("format", {"type": "string", "enum": ["plain", "swagger"]},
                      "plain: HTML without JavaScript; 400 invalid_format for another value")],
        responses={200: {"description": "HTML", "headers": {"X-Request-ID": REQUEST_ID},
                         "content": {"text/html": {"schema": {"type": "string"}}}}})},
    "/api/docs/assets/{name}": {"get": operation(
        "documentation", "A file of the documentation page (Swagger UI, served locally)",
        rpc=False, operation_id="docs_asset", errors=(404,),
        params=[{"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "swagger-ui-bundle.js, swagger-ui.css, init.js or LICENSE"}],
        responses={200: {"description": "The file", "headers": {"X-Request-ID": REQUEST_ID},
                         "content": {"application/javascript": {"schema": {"type": "string"}},
                                     "text/css": {"schema": {"type": "string"}},
                                     "text/plain": {"schema": {"type": "string"}}}}})},
    "/api/users/register/": {"post": operation(
        "users", "Register; answers with a token", operation_id="register",
        body=json_body(RegisterRequest), errors=(400, 413, 422, 429),
        description="400 when a required field is missing, the body is not JSON or the "
                    "username/email is taken; 422 when values are invalid.",
        responses={201: linked(json_response("Registered", ref(Registered)),
                               Profile=("profile", "id", "id"),
                               Activity=("user_activity", "user_id", "id"))})},
    "/api/users/login/": {"post": operation(
        "users", "Log in with username and password", operation_id="login",
        body=json_body(LoginRequest), errors=(400, 413, 422, 429),
        responses={200: linked(json_response("A fresh token", ref(LoggedIn)),
                               Profile=("profile", "id", "user_id"))})},
    "/api/stream/ticket/": {"post": operation(
        "stream", "A single-use ticket (30 s) for the caller's user stream", auth=True,
        operation_id="stream_ticket", errors=(429,),
        description="EventSource cannot send headers: GET /api/stream/?streams=user&ticket=... "
                    "takes it once, on any stream process. Banned users get tickets too. "
                    "503 when the ticket store (Redis) is unreachable.",
        responses={200: json_response("The ticket", ref(StreamTicket))})},
    "/api/stream/": {"get": {**operation(
        "stream", "Live updates as Server-Sent Events (served by the stream process)",
        rpc=False, operation_id="stream", errors=(400, 403, 404, 429, 503),
        description="streams: comma list of `public`, `post:{id}`, `user` (ticket or Bearer "
                    "token), `moderation` (admins). Events: post_created, post_updated, "
                    "post_deleted, comment_created, comment_deleted, likes, notification, "
                    "reset; every event has an id: resume with Last-Event-ID or last_event_id= "
                    "within SSE_REPLAY_SECONDS. Errors answer JSON before the stream starts: "
                    "400 invalid_stream / too_many_streams, 401 not_authenticated / "
                    "invalid_ticket / token_revoked / invalid_token, 403 admin_required, "
                    "404 post_not_found, 429 too_many_connections (Retry-After).",
        params=[{"name": "streams", "in": "query", "required": True,
                 "schema": {"type": "string"}, "description": "e.g. public,post:12,user"},
                {"name": "ticket", "in": "query", "schema": {"type": "string", "maxLength": 128},
                 "description": "from POST /api/stream/ticket/"},
                {"name": "last_event_id", "in": "query", "schema": {"type": "string"},
                 "description": "as the Last-Event-ID header"}],
        responses={200: {"description": "The event stream",
                         "content": {"text/event-stream": {"schema": {"type": "string"}}}}}),
        # Not a route of the gateway: nginx sends /api/stream/ to the stream process.
        "x-served-by": "stream"}},
    "/api/users/logout/": {"post": operation(
        "users", "Log out: the presented token is refused everywhere within 1 s", auth=True,
        operation_id="logout", errors=(429,),
        responses={204: {"description": "Revoked", "headers": {"X-Request-ID": REQUEST_ID}}})},
    "/api/users/logout-all/": {"post": operation(
        "users", "Log out everywhere: every token of the caller, this one too", auth=True,
        operation_id="logout_all", errors=(429,),
        responses={204: {"description": "Revoked", "headers": {"X-Request-ID": REQUEST_ID}}})},
    "/api/users/me/password/": {"post": operation(
        "users", "Change the password; every other token of the caller is revoked",
        auth=True, operation_id="change_password", body=json_body(PasswordChangeRequest),
        errors=(400, 413, 422, 429),
        description="A wrong current_password is 422 `invalid_password` (`fields` names it); "
                    "new_password as at registration (8-128 characters) else 422.",
        responses={204: {"description": "Changed", "headers": {"X-Request-ID": REQUEST_ID}}})},
    "/api/users/profile/{id}/": {"get": operation(
        "users", "A user's public profile", operation_id="profile",
        params=[path_id(description="User id")], errors=(404,),
        responses={200: json_response("The profile", ref(Profile))})},
    "/api/users/me/": {
        "get": operation(
            "users", "The caller's own account: profile, email, is_admin, ban", auth=True,
            operation_id="get_me", errors=(404,),
            responses={200: json_response("Me", ref(Me))}),
        "patch": operation(
            "users", "Edit the caller's first_name, last_name, bio or email", auth=True,
            operation_id="update_me", body=json_body(ProfileUpdate),
            errors=(400, 404, 413, 422),
            description="Any of the four fields; `username` and other fields are ignored. "
                        "None of them: 400 missing_fields; an email another account has: "
                        "400 user_exists; invalid values: 422. Unchanged values change "
                        "nothing (no user.updated event).",
            responses={200: linked(json_response("Me after the change", ref(Me)),
                                   Profile=("profile", "id", "id"))}),
        "delete": operation(
            "users", "Delete the caller's account, with the password", auth=True,
            operation_id="delete_account", body=json_body(DeleteAccountRequest),
            errors=(400, 413, 422),
            description="204: the user is gone (profile 404, login refused, username and email "
                        "free); posts, comments, likes, notifications, analytics rows and files "
                        "are erased within 60 s. Wrong password 422 `invalid_password`.",
            responses={204: {"description": "Deleted", "headers": {"X-Request-ID": REQUEST_ID}}}),
    },
    "/api/users/me/avatar/": {
        "put": operation(
            "users", "Upload the caller's avatar (multipart, one file part `avatar`)",
            auth=True, operation_id="set_avatar", errors=(400, 404, 413),
            body={"required": True, "content": {"multipart/form-data": {
                "schema": ref(AvatarForm),
                "encoding": {"avatar": {"contentType": "image/jpeg, image/png"}}}}},
            description="The image must decode as JPEG or PNG (else 400 invalid_image; "
                        "400 image_too_many_pixels past MAX_IMAGE_PIXELS); over 5 MB: 413 "
                        "image_too_large; no `avatar` part: 400 missing_fields. Stored as "
                        "its centre square scaled to 256x256 (never enlarged), without "
                        "metadata; the previous avatar file is deleted.",
            responses={200: json_response("Me with the new avatar_url", ref(Me))}),
        "delete": operation(
            "users", "Remove the caller's avatar (also when there is none)", auth=True,
            operation_id="remove_avatar", errors=(404,),
            responses={204: {"description": "Removed",
                             "headers": {"X-Request-ID": REQUEST_ID}}}),
    },
    "/api/users/me/export/": {"get": operation(
        "users", "Everything the caller made and received, as one JSON download",
        auth=True, operation_id="export_me",
        description="Contract v2 section 6.4: the profile (\"me\"), the caller's posts (with "
                    "their likes; removed ones too, with the reason), comments, likes, "
                    "notifications and reports, everything, unpaginated, oldest first.",
        responses={200: {"description": "The export",
                         "headers": {"X-Request-ID": REQUEST_ID, "Content-Disposition": {
                             "description": '`attachment; filename="imageboard-export-<user '
                                            'id>.json"`', "schema": {"type": "string"}}},
                         "content": {"application/json": {"schema": ref(Export)}}}})},
    "/api/posts/": {
        "get": operation(
            "posts", "The feed, paginated; searchable", operation_id="list_posts",
            params=[PAGE, LIMIT, SEARCH, PAGINATION, CURSOR, query(
                "ordering", {"type": "string", "enum": ["created_at", "-created_at",
                                                        "likes_count", "-likes_count"],
                             "default": "-created_at"},
                "`-` descending; ties break newest first; anything else -> 400.")],
            errors=(400,),
            responses={200: json_response(
                "One page: with count (pages), or next/previous/results (pagination=cursor)",
                {"anyOf": [ref(PostPage), ref(PostCursorPage)]})}),
        "post": operation(
            "posts", "Create a post (multipart, optional image)", auth=True,
            operation_id="create_post", errors=(400, 413, 422, 429),
            body={"required": True, "content": {"multipart/form-data": {
                "schema": ref(PostCreateForm),
                "encoding": {"image": {"contentType": "image/jpeg, image/png"}}}}},
            description="The image must decode as JPEG or PNG (else 400); over 5 MB -> 413.",
            responses={201: linked(
                json_response("Created", ref(PostCreated)),
                Post=("get_post", "id", "id"), Delete=("delete_post", "id", "id"),
                Like=("toggle_like", "id", "id"), Comments=("list_comments", "post_id", "id"),
                Comment=("create_comment", {"post_id": "id"}))}),
    },
    "/api/posts/{id}/": {
        "get": operation(
            "posts", "One post with its likes", operation_id="get_post",
            params=[path_id(description="Post id")], errors=(404,),
            responses={200: json_response("The post", ref(PostDetail))}),
        "patch": operation(
            "posts", "Edit a post's title and/or content (author only)", auth=True,
            operation_id="update_post", params=[path_id(description="Post id")],
            description="Contract v2 section 4.1: the rules of creation; no editable field "
                        "400 missing_fields; someone else (admins too) 403 forbidden; JSON "
                        "only (the image stays). Unchanged values change nothing.",
            body=json_body(PostUpdate), errors=(400, 403, 404, 413, 422),
            responses={200: json_response("The post, edited", ref(PostDetail))}),
        "delete": operation(
            "posts", "Delete a post (author or admin); its comments and likes go too",
            auth=True, operation_id="delete_post", params=[path_id(description="Post id")],
            errors=(403, 404),
            responses={204: {"description": "Deleted",
                             "headers": {"X-Request-ID": REQUEST_ID}}}),
    },
    **{f"/api/posts/{{id}}/{action}/": {"post": operation(
        "posts", f"{action.capitalize()} a post (admins)", auth=True,
        operation_id=f"{action}_post", params=[path_id(description="Post id")],
        description="Contract v2 section 4.3: " + (
            "hidden from everyone but admins (lists, details, search, counts) until restored; "
            "already removed 409 already_removed." if action == "remove" else
            "shown again, unchanged; not removed 409 not_removed.")
        + " Missing or deleted 404; reason missing 400, invalid 422.",
        body=json_body(RemovalRequest), errors=(400, 403, 404, 409, 413, 422),
        responses={200: json_response("The admin view of the post", ref(PostDetail))})}
       for action in ("remove", "restore")},
    "/api/posts/{id}/like/": {"post": operation(
        "posts", "Toggle the caller's like", auth=True, operation_id="toggle_like",
        params=[path_id(description="Post id")], errors=(404, 429),
        responses={200: linked(json_response("The state after the call", ref(LikeToggled)),
                               Post=("get_post", "id", "post_id"),
                               Toggle=("toggle_like", "id", "post_id"))})},
    "/api/comments/": {
        "get": operation(
            "comments", "A post's comments, oldest first", operation_id="list_comments",
            params=[query("post_id", INT_ID, "The post", required=True), PAGE, LIMIT,
                    PAGINATION, CURSOR],
            errors=(400, 404),
            responses={200: json_response(
                "A plain array; the total and neighbours are in headers (in cursor mode "
                "only Link next/prev, no X-Total-Count)",
                {"type": "array", "items": ref(Comment), "maxItems": MAX_LIMIT},
                PAGINATION_HEADERS)}),
        "post": operation(
            "comments", "Comment on a post (or reply to a comment)", auth=True,
            operation_id="create_comment", body=json_body(CommentCreateRequest),
            errors=(400, 404, 413, 422, 429),
            responses={201: linked(json_response("Created", ref(CommentCreated)),
                                   Comments=("list_comments", "post_id", "post_id"),
                                   Reply=("create_comment", {"post_id": "post_id",
                                                             "parent": "id"}))}),
    },
    "/api/comments/{id}/": {
        "get": operation(
            "comments", "One comment", operation_id="get_comment",
            params=[path_id(description="Comment id")], errors=(404,),
            description="Contract v2 section 4.2: a live comment or a listed deleted one "
                        "(placeholder); a removed one, or one of a removed post, 404 except to "
                        "admins (who see removed_reason).",
            responses={200: json_response("The comment", ref(Comment))}),
        "patch": operation(
            "comments", "Edit a comment's content (author only)", auth=True,
            operation_id="update_comment", params=[path_id(description="Comment id")],
            body=json_body(CommentUpdate), errors=(400, 403, 404, 413, 422),
            description="Contract v2 section 4.1: placeholders 404; someone else 403 forbidden.",
            responses={200: json_response("The comment, edited", ref(Comment))}),
        "delete": operation(
            "comments", "Delete a comment (author or admin)", auth=True,
            operation_id="delete_comment", params=[path_id(description="Comment id")],
            errors=(403, 404),
            description="Contract v2 section 4.2: with listed replies it stays as a placeholder "
                        "(author null, content empty, is_deleted); without, it goes, and so do "
                        "placeholders above it left without listed replies.",
            responses={204: {"description": "Deleted",
                             "headers": {"X-Request-ID": REQUEST_ID}}}),
    },
    **{f"/api/comments/{{id}}/{action}/": {"post": operation(
        "comments", f"{action.capitalize()} a comment (admins)", auth=True,
        operation_id=f"{action}_comment", params=[path_id(description="Comment id")],
        description="Contract v2 section 4.3: " + (
            "hidden from everyone but admins (a placeholder while it has listed replies); "
            "already removed 409 already_removed." if action == "remove" else
            "shown again, unchanged; not removed 409 not_removed.")
        + " Missing or deleted 404; reason missing 400, invalid 422.",
        body=json_body(RemovalRequest), errors=(400, 403, 404, 409, 413, 422),
        responses={200: json_response("The admin view of the comment", ref(Comment))})}
       for action in ("remove", "restore")},
    "/api/notifications/": {"get": operation(
        "notifications", "The caller's notifications, newest first", auth=True,
        operation_id="list_notifications", errors=(400,),
        params=[query("unread_only", {"type": "boolean", "default": False},
                      "`true` or `false`"), PAGE, LIMIT],
        responses={200: json_response(
            "A plain array; the total and neighbours are in headers",
            {"type": "array", "items": ref(Notification), "maxItems": MAX_LIMIT},
            PAGINATION_HEADERS)})},
    "/api/notifications/{id}/mark-read/": {"patch": operation(
        "notifications", "Mark one notification read", auth=True,
        operation_id="mark_notification_read",
        params=[path_id(description="Notification id")], errors=(403, 404),
        responses={200: json_response("Its new state", ref(NotificationRead))})},
    "/api/notifications/unread-count/": {"get": operation(
        "notifications", "How many of the caller's notifications are unread", auth=True,
        operation_id="unread_count",
        responses={200: json_response("The count", ref(UnreadCount))})},
    "/api/notifications/mark-all-read/": {"post": operation(
        "notifications", "Mark every notification of the caller read", auth=True,
        operation_id="mark_all_read",
        responses={200: json_response("How many changed", ref(MarkedAllRead))})},
    "/api/analytics/posts/stats/": {"get": operation(
        "analytics", "Post statistics for a period (admins only)", auth=True,
        operation_id="post_stats", errors=(400, 403),
        params=[query("start_date", {"type": "string", "format": "date"},
                      "YYYY-MM-DD, inclusive", required=True),
                query("end_date", {"type": "string", "format": "date"},
                      "YYYY-MM-DD, inclusive, not before start_date", required=True)],
        description="From ClickHouse; 503 while ClickHouse is unreachable.",
        responses={200: json_response("The statistics", ref(PostStats))})},
    "/api/analytics/user-activity/": {"get": operation(
        "analytics", "A user's activity over the last 30 days", auth=True,
        operation_id="user_activity", errors=(400, 404),
        params=[query("user_id", INT_ID, "Defaults to the caller")],
        responses={200: json_response("The activity", ref(UserActivity))})},
    "/api/analytics/moderation/": {"get": operation(
        "analytics", "Moderation figures: open reports, reports per day, time to resolve, "
        "removals by reason (admins only)", auth=True,
        operation_id="moderation_stats", errors=(400, 403),
        params=[query("days", {"type": "integer", "minimum": 1, "maximum": 365, "default": 30},
                      "Today (UTC) and the days before it, 1-365")],
        description="From ClickHouse; 503 while ClickHouse is unreachable.",
        responses={200: json_response("The figures", ref(ModerationStats))})},
}


# Contract v2 section 5: reports, bans, the modlog (the moderation service).
PATHS.update({
    "/api/reports/": {
        "post": operation(
            "moderation", "Report a post or comment", auth=True, operation_id="create_report",
            body=json_body(ReportCreate), errors=(400, 403, 404, 409, 413, 422, 429),
            description="`details` (at most 1000 characters) is required with reason "
                        "`other` (else 400 missing_fields). A missing, removed or placeholder "
                        "target is 404 post_not_found/comment_not_found; one's own item 422 "
                        "own_content; an open report of the caller on the target 409 conflict.",
            responses={201: json_response("The report, with a snapshot of its target",
                                          ref(Report))}),
        "get": operation(
            "moderation", "The report queue, newest first (admins)", auth=True,
            operation_id="list_reports", errors=(400, 403),
            params=[query("status", {"type": "string", "enum": list(REPORT_STATUSES)},
                          "No status: all; another value 400 invalid_status."), PAGE, LIMIT],
            responses={200: json_response("One page", ref(ReportPage))}),
    },
    "/api/reports/{id}/resolve/": {"post": operation(
        "moderation", "Resolve a report: dismiss, remove the target, or remove and ban",
        auth=True, operation_id="resolve_report", params=[path_id(description="Report id")],
        body=json_body(ReportResolve), errors=(400, 403, 404, 409, 413, 422),
        description="`ban_days` (1-3650, null = permanent) must be sent with `ban` (else 400 "
                    "missing_fields) and is refused (422) with another action. `remove` and "
                    "`ban` resolve every open report on the target alike. Unknown 404 "
                    "report_not_found; resolved 409 already_resolved; ban of an admin 403 "
                    "cannot_ban_admin, of an erased author 404 user_not_found.",
        responses={200: json_response("The resolved report", ref(Report))})},
    "/api/users/{id}/ban/": {
        "post": operation(
            "moderation", "Ban a user (admins); a current ban is replaced", auth=True,
            operation_id="ban_user", params=[path_id(description="User id")],
            body=json_body(BanCreate), errors=(400, 403, 404, 413, 422),
            description="`days` must be sent (1-3650; null = permanent). Writes of the user "
                        "are 403 user_banned on every gateway within 1 s. Unknown user 404 "
                        "user_not_found; an admin 403 cannot_ban_admin.",
            responses={200: json_response("The ban", ref(BanRecord))}),
        "delete": operation(
            "moderation", "Lift a user's ban (admins)", auth=True, operation_id="unban_user",
            params=[path_id(description="User id")], errors=(400, 403, 404, 413, 422),
            body={"required": False, "content": {"application/json": {"schema": ref(BanLift)}}},
            description="Optional JSON `{\"reason\"}`. No current ban: 404 not_banned.",
            responses={204: {"description": "Lifted", "headers": {"X-Request-ID": REQUEST_ID}}}),
    },
    "/api/modlog/": {"get": operation(
        "moderation", "The public log of moderators' actions, newest first",
        operation_id="modlog", errors=(400,),
        params=[query("action", {"type": "string", "enum": list(MODLOG_ACTIONS)},
                      "Only this action; another value 400 invalid_action."), PAGE, LIMIT],
        description="Each entry's `moderator` is shown to admins only.",
        responses={200: json_response("One page", ref(ModlogPage))})},
})


RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {"description": "Requests allowed per window (section 3.4).",
                          "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the window after this one.",
                              "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "X-RateLimit-Reset": {"description": "End of the window, ISO 8601 UTC.",
                          "schema": {"type": "string", "format": "date-time"}},
}
_PARAM = re.compile(r"\{[^}]*\}")


def _route_key(path):
    return _PARAM.sub("{}", path.rstrip("/"))


def add_rate_limits(paths):
    """Per-user limits (gateway/ratelimit.py RULES, one table for both): each limited
    operation may answer 429 with Retry-After, and every answer after authentication
    (all but 401 and 414) carries the X-RateLimit headers (absent while the limit is off
    or Redis is unreachable)."""
    routes = {(_route_key(rule.route), rule.method.lower()) for rule in RULES}
    for path, item in paths.items():
        for method, op in item.items():
            if (_route_key(path), method) not in routes:
                continue
            op["responses"]["429"] = error(
                429, "Rate limited: past the caller's per-user limit (contract v2 section "
                     "3.4), or nginx's per-IP one. Retry-After says when to try again.")
            for status, response in op["responses"].items():
                if status not in ("401", "414"):
                    response["headers"] = {**response.get("headers", {}), **RATE_LIMIT_HEADERS}
    return paths

def _banned_writes_may_be_403(paths):
    """Contract v2 §3.3: every write a banned user may not make can answer 403
    `user_banned` (gateway/write_guard.py holds the one table of them)."""
    for path, item in paths.items():
        for method, op in item.items():
            if op.get("security") and is_write(method.upper(), path):
                op["responses"].setdefault("403", error(403))


_banned_writes_may_be_403(PATHS)
add_rate_limits(PATHS)  # after: a 403 of a limited write may carry the headers (not_post_author)


@functools.lru_cache(maxsize=1)
def _document():
    return readable_document({
        "openapi": "3.1.0",
        "info": {
            "title": "Imageboard API",
            "version": "1.0.0",
            "description": (
                "Nameko services behind a Falcon gateway. Every error has the body "
                "`{\"error\": {\"code\", \"message\", \"fields\"?}}`. Lists paginate with "
                f"`page` (from 1) and `limit` (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}). "
                "Trailing slashes "
                "are optional. Timestamps are ISO 8601 UTC with an explicit offset."),
        },
        "servers": [{"url": "/", "description": "This gateway (or nginx in front of it)"}],
        "tags": [{"name": t} for t in ("users", "posts", "comments", "notifications", "stream",
                                       "analytics", "moderation", "operations",
                                       "documentation")],
        "paths": PATHS,
        "components": {
            "schemas": components(MODELS),
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "HS256, `exp` enforced, `sub` = user id, `jti`, `ver`; "
                               "the `is_admin` claim is informational, never trusted."}},
        },
    })


def openapi_document():
    """A copy of the document, so a caller cannot change the cached one."""
    return copy.deepcopy(_document())

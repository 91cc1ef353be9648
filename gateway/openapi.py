"""The OpenAPI 3.1 document of the whole HTTP API (../shared/spec/api-contract.md).

Built as data by small helpers so the cross-cutting parts (the error body of decision 1,
the pagination headers of decision 3, X-Request-ID, 401/503/504 on every RPC-backed
operation) are written once. tests/e2e/test_openapi.py keeps it true: it compares the
paths and methods here with the gateway's router and validates real responses against
the schemas; tests/fuzz drives schemathesis from it.

Response objects are closed (additionalProperties: false): the contract allows no extra
fields. Request bodies are open: unknown fields are ignored by the services.
"""
import copy
import functools

INT_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
COUNT = {"type": "integer", "minimum": 0}
TIMESTAMP = {"type": "string", "format": "date-time",
             "description": "ISO 8601 in UTC with an explicit offset (decision 2)."}
NULLABLE_URL = {"type": ["string", "null"], "format": "uri"}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def closed(properties, required=None, **extra):
    """A response object: exactly these fields (all required unless `required` says)."""
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": list(properties) if required is None else required, **extra}


SCHEMAS = {
    "Error": closed({
        "error": closed({
            "code": {"type": "string", "description": "Stable machine-readable code."},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Per-field problems (validation errors only)."},
        }, required=["code", "message"]),
    }, description="Decision 1: the one error body of every 4xx/5xx."),
    "RegisterRequest": {
        "type": "object", "required": ["username", "email", "password"],
        "properties": {
            "username": {"type": "string", "minLength": 3, "maxLength": 32,
                         "pattern": "^[A-Za-z0-9_]{3,32}$"},
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "password": {"type": "string", "minLength": 8, "maxLength": 128},
            "first_name": {"type": ["string", "null"], "maxLength": 150},
            "last_name": {"type": ["string", "null"], "maxLength": 150},
        },
    },
    "Registered": closed({
        "id": INT_ID, "username": {"type": "string"}, "email": {"type": "string"},
        "token": {"type": "string", "description": "JWT (HS256) for the Authorization header."},
        "created_at": TIMESTAMP,
    }),
    "LoginRequest": {
        "type": "object", "required": ["username", "password"],
        "properties": {"username": {"type": "string", "maxLength": 254},
                       "password": {"type": "string", "maxLength": 128}},
    },
    "LoggedIn": closed({"token": {"type": "string"}, "user_id": INT_ID,
                        "username": {"type": "string"}}),
    "Profile": closed({
        "id": INT_ID, "username": {"type": "string"}, "first_name": {"type": "string"},
        "last_name": {"type": "string"}, "created_at": TIMESTAMP,
        "posts_count": COUNT, "comments_count": COUNT,
        "email": {"type": "string", "description": "Only when the caller is this user."},
    }, required=["id", "username", "first_name", "last_name", "created_at",
                 "posts_count", "comments_count"],
        description="Decision 5: public profile; `email` only for its owner."),
    "AuthorRef": closed({"id": INT_ID, "username": {"type": "string"}}),
    "PostSummary": closed({
        "id": INT_ID, "title": {"type": "string"}, "content": {"type": "string"},
        "image_url": NULLABLE_URL, "author": ref("AuthorRef"),
        "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
        "likes_count": COUNT, "comments_count": COUNT,
    }),
    "PostPage": closed({
        "count": COUNT,
        "next": {**NULLABLE_URL, "description": "Absolute URL keeping the other parameters."},
        "previous": NULLABLE_URL,
        "results": {"type": "array", "items": ref("PostSummary"), "maxItems": 100},
    }),
    "PostCreateForm": {
        "type": "object", "required": ["title", "content"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 255},
            "content": {"type": "string", "minLength": 1, "maxLength": 5000},
            "image": {"type": "string", "contentMediaType": "application/octet-stream",
                      "description": "JPEG or PNG, at most 5 MB; decoded, re-encoded without "
                                     "metadata (decision 10)."},
        },
    },
    "PostCreated": closed({
        "id": INT_ID, "title": {"type": "string"}, "content": {"type": "string"},
        "image_url": NULLABLE_URL, "author": INT_ID, "created_at": TIMESTAMP,
        "likes_count": {"const": 0},
    }),
    "LikeRef": closed({"user_id": INT_ID, "username": {"type": "string"}}),
    "PostDetail": closed({
        "id": INT_ID, "title": {"type": "string"}, "content": {"type": "string"},
        "image_url": NULLABLE_URL, "author": ref("AuthorRef"),
        "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
        "likes": {"type": "array", "items": ref("LikeRef")},
        "likes_count": COUNT, "comments_count": COUNT,
    }),
    "LikeToggled": closed({"post_id": INT_ID, "liked": {"type": "boolean"},
                           "likes_count": COUNT, "message": {"type": "string"}},
                          description="Decision 4: `liked` is the state after the call."),
    "Comment": closed({
        "id": INT_ID, "post_id": INT_ID, "author": ref("AuthorRef"),
        "content": {"type": "string"}, "created_at": TIMESTAMP, "updated_at": TIMESTAMP,
        "parent": {"type": ["integer", "null"]},
    }),
    "CommentCreateRequest": {
        "type": "object", "required": ["post_id", "content"],
        "properties": {
            "post_id": INT_ID,
            "content": {"type": "string", "minLength": 1, "maxLength": 1000},
            "parent": {"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1,
                       "description": "A comment of the same post."},
        },
    },
    "CommentCreated": closed({
        "id": INT_ID, "post_id": INT_ID, "author": INT_ID, "content": {"type": "string"},
        "created_at": TIMESTAMP, "parent": {"type": ["integer", "null"]},
    }),
    "Notification": closed({
        "id": INT_ID,
        "type": {"type": "string", "enum": ["LIKE", "COMMENT", "REPLY", "SYSTEM"]},
        "message": {"type": "string"},
        "data": {"type": "object", "properties": {
            "post_id": {"type": "integer"}, "comment_id": {"type": "integer"},
            "actor_id": {"type": ["integer", "null"]}}},
        "read": {"type": "boolean"}, "created_at": TIMESTAMP,
    }),
    "NotificationRead": closed({"id": INT_ID, "read": {"type": "boolean"}}),
    "UnreadCount": closed({"unread_count": COUNT}),
    "MarkedAllRead": closed({"marked": COUNT}),
    "PostStats": closed({
        "period": closed({"start_date": {"type": "string", "format": "date"},
                          "end_date": {"type": "string", "format": "date"}}),
        "total_posts": COUNT,
        "posts_per_day": {"type": "number", "minimum": 0},
        "most_active_users": {"type": "array", "items": closed({
            "user_id": INT_ID, "username": {"type": "string"}, "posts_count": COUNT})},
        "likes_statistics": closed({
            "total_likes": COUNT,
            "avg_likes_per_post": {"type": "number", "minimum": 0},
            "most_liked_post": {"oneOf": [{"type": "null"}, closed({
                "post_id": INT_ID, "title": {"type": "string"}, "likes_count": COUNT})]},
        }),
    }),
    "UserActivity": closed({
        "user_id": INT_ID, "period": {"const": "last_30_days"},
        "posts_created": COUNT, "comments_written": COUNT, "likes_given": COUNT,
        "activity_timeline": {
            "type": "array", "minItems": 30, "maxItems": 30,
            "description": "One entry per day, oldest first, zeros included (decision 9).",
            "items": closed({"date": {"type": "string", "format": "date"},
                             "posts": COUNT, "comments": COUNT, "likes": COUNT}),
        },
    }),
    "Health": closed({"status": {"const": "ok"}}),
    "Ready": closed({
        "status": {"type": "string", "enum": ["ready", "not_ready"]},
        "checks": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "Per service: `ok` or the error code of its ping."},
    }),
}

REQUEST_ID = {"description": "The caller's X-Request-ID (if short and plain) or a new one; "
                             "it is in every log line of the request.",
              "schema": {"type": "string"}}
PAGINATION_HEADERS = {
    "X-Total-Count": {"description": "Items in the whole list (decision 3).",
                      "schema": {"type": "integer", "minimum": 0}},
    "Link": {"description": "RFC 8288 `next`/`prev` neighbours, absolute URLs.",
             "schema": {"type": "string"}},
}

ERRORS = {
    400: "Bad request: not JSON, a required field or parameter missing, a bad query value.",
    401: "Missing, malformed, expired or wrongly signed token (decision 11).",
    403: "Authenticated, but not allowed.",
    404: "Not found.",
    413: "Body too large.",
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
    stateful phase follows them)."""
    response["links"] = {
        name: {"operationId": op_id, "parameters": {param: f"$response.body#/{field}"}}
        for name, (op_id, param, field) in links.items()}
    return response


def error(status, description=None):
    return json_response(description or ERRORS[status], ref("Error"), ERROR_HEADERS.get(status))


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


PAGE = query("page", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "default": 1},
             "Page number, from 1; past the end gives an empty page.")
LIMIT = query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
              "Items per page, at most 100.")


def operation(tag, summary, responses, *, description="", auth=False, rpc=True,
              params=(), body=None, errors=(), operation_id=None):
    """One operation. Every operation may answer 401 (a bad token is rejected even on
    public endpoints); RPC-backed ones may answer 503 and 504."""
    statuses = set(errors) | {401}
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


def json_body(schema_name):
    return {"required": True, "content": {"application/json": {"schema": ref(schema_name)}}}


PATHS = {
    "/health": {"get": operation(
        "operations", "Liveness: the gateway process answers", rpc=False,
        responses={200: json_response("Alive", ref("Health"))}, operation_id="health")},
    "/ready": {"get": operation(
        "operations", "Readiness: RabbitMQ reachable and every service answers a ping",
        rpc=False, operation_id="ready",
        responses={200: json_response("Ready", ref("Ready")),
                   503: json_response("Some part is not ready", ref("Ready"))})},
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
        "documentation", "This document as a readable HTML page", rpc=False,
        operation_id="docs",
        responses={200: {"description": "HTML", "headers": {"X-Request-ID": REQUEST_ID},
                         "content": {"text/html": {"schema": {"type": "string"}}}}})},
    "/api/users/register/": {"post": operation(
        "users", "Register; answers with a token", operation_id="register",
        body=json_body("RegisterRequest"), errors=(400, 413, 422, 429),
        description="400 when a required field is missing, the body is not JSON or the "
                    "username/email is taken; 422 when values are invalid.",
        responses={201: linked(json_response("Registered", ref("Registered")),
                               Profile=("profile", "id", "id"))})},
    "/api/users/login/": {"post": operation(
        "users", "Log in with username and password", operation_id="login",
        body=json_body("LoginRequest"), errors=(400, 413, 422, 429),
        responses={200: linked(json_response("A fresh token", ref("LoggedIn")),
                               Profile=("profile", "id", "user_id"))})},
    "/api/users/profile/{id}/": {"get": operation(
        "users", "A user's public profile", operation_id="profile",
        params=[path_id(description="User id")], errors=(404,),
        responses={200: json_response("The profile", ref("Profile"))})},
    "/api/posts/": {
        "get": operation(
            "posts", "The feed, paginated", operation_id="list_posts",
            params=[PAGE, LIMIT, query(
                "ordering", {"type": "string", "enum": ["created_at", "-created_at",
                                                        "likes_count", "-likes_count"],
                             "default": "-created_at"},
                "`-` descending; ties break newest first; anything else -> 400.")],
            errors=(400,),
            responses={200: json_response("One page", ref("PostPage"))}),
        "post": operation(
            "posts", "Create a post (multipart, optional image)", auth=True,
            operation_id="create_post", errors=(400, 413, 422, 429),
            body={"required": True, "content": {"multipart/form-data": {
                "schema": ref("PostCreateForm"),
                "encoding": {"image": {"contentType": "image/jpeg, image/png"}}}}},
            description="The image must decode as JPEG or PNG (else 400); over 5 MB -> 413.",
            responses={201: linked(
                json_response("Created", ref("PostCreated")),
                Post=("get_post", "id", "id"), Delete=("delete_post", "id", "id"),
                Like=("toggle_like", "id", "id"), Comments=("list_comments", "post_id", "id"))}),
    },
    "/api/posts/{id}/": {
        "get": operation(
            "posts", "One post with its likes", operation_id="get_post",
            params=[path_id(description="Post id")], errors=(404,),
            responses={200: json_response("The post", ref("PostDetail"))}),
        "delete": operation(
            "posts", "Delete a post (author or admin); its comments and likes go too",
            auth=True, operation_id="delete_post", params=[path_id(description="Post id")],
            errors=(403, 404),
            responses={204: {"description": "Deleted",
                             "headers": {"X-Request-ID": REQUEST_ID}}}),
    },
    "/api/posts/{id}/like/": {"post": operation(
        "posts", "Toggle the caller's like", auth=True, operation_id="toggle_like",
        params=[path_id(description="Post id")], errors=(404, 429),
        responses={200: json_response("The state after the call", ref("LikeToggled"))})},
    "/api/comments/": {
        "get": operation(
            "comments", "A post's comments, oldest first", operation_id="list_comments",
            params=[query("post_id", INT_ID, "The post", required=True), PAGE, LIMIT],
            errors=(400, 404),
            responses={200: json_response(
                "A plain array; the total and neighbours are in headers",
                {"type": "array", "items": ref("Comment"), "maxItems": 100},
                PAGINATION_HEADERS)}),
        "post": operation(
            "comments", "Comment on a post (or reply to a comment)", auth=True,
            operation_id="create_comment", body=json_body("CommentCreateRequest"),
            errors=(400, 404, 413, 422, 429),
            responses={201: linked(json_response("Created", ref("CommentCreated")),
                                   Comments=("list_comments", "post_id", "post_id"))}),
    },
    "/api/notifications/": {"get": operation(
        "notifications", "The caller's notifications, newest first", auth=True,
        operation_id="list_notifications", errors=(400,),
        params=[query("unread_only", {"type": "boolean", "default": False},
                      "`true` or `false`"), PAGE, LIMIT],
        responses={200: json_response(
            "A plain array; the total and neighbours are in headers",
            {"type": "array", "items": ref("Notification"), "maxItems": 100},
            PAGINATION_HEADERS)})},
    "/api/notifications/{id}/mark-read/": {"patch": operation(
        "notifications", "Mark one notification read", auth=True,
        operation_id="mark_notification_read",
        params=[path_id(description="Notification id")], errors=(403, 404),
        responses={200: json_response("Its new state", ref("NotificationRead"))})},
    "/api/notifications/unread-count/": {"get": operation(
        "notifications", "How many of the caller's notifications are unread", auth=True,
        operation_id="unread_count",
        responses={200: json_response("The count", ref("UnreadCount"))})},
    "/api/notifications/mark-all-read/": {"post": operation(
        "notifications", "Mark every notification of the caller read", auth=True,
        operation_id="mark_all_read",
        responses={200: json_response("How many changed", ref("MarkedAllRead"))})},
    "/api/analytics/posts/stats/": {"get": operation(
        "analytics", "Post statistics for a period (admins only)", auth=True,
        operation_id="post_stats", errors=(400, 403),
        params=[query("start_date", {"type": "string", "format": "date"},
                      "YYYY-MM-DD, inclusive", required=True),
                query("end_date", {"type": "string", "format": "date"},
                      "YYYY-MM-DD, inclusive, not before start_date", required=True)],
        description="From ClickHouse; 503 while ClickHouse is unreachable.",
        responses={200: json_response("The statistics", ref("PostStats"))})},
    "/api/analytics/user-activity/": {"get": operation(
        "analytics", "A user's activity over the last 30 days", auth=True,
        operation_id="user_activity", errors=(400, 404),
        params=[query("user_id", INT_ID, "Defaults to the caller")],
        responses={200: json_response("The activity", ref("UserActivity"))})},
}


@functools.lru_cache(maxsize=1)
def _document():
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Imageboard API",
            "version": "1.0.0",
            "description": (
                "Nameko services behind a Falcon gateway. Every error has the body "
                "`{\"error\": {\"code\", \"message\", \"fields\"?}}`. Lists paginate with "
                "`page` (from 1) and `limit` (default 20, at most 100). Trailing slashes "
                "are optional. Timestamps are ISO 8601 UTC with an explicit offset."),
        },
        "servers": [{"url": "/", "description": "This gateway (or nginx in front of it)"}],
        "tags": [{"name": t} for t in ("users", "posts", "comments", "notifications",
                                       "analytics", "operations", "documentation")],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "HS256, `exp` enforced, `sub` = user id, `is_admin` claim."}},
        },
    }


def openapi_document():
    """A copy of the document, so a caller cannot change the cached one."""
    return copy.deepcopy(_document())

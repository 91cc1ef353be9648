import logging
import re
import time
import uuid

import falcon

from imageboard.logs import set_request_id

log = logging.getLogger("gateway.access")

# Accept a caller's id only if it is short and plain, so it is safe in logs and headers.
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestIdMiddleware:
    """Takes X-Request-ID from the caller (or makes one), puts it on the response, in
    every log line, and into every RPC call's context; logs one access line per request."""

    def process_request(self, req, resp):
        request_id = req.get_header("X-Request-ID")
        if not request_id or not _REQUEST_ID_RE.fullmatch(request_id):
            request_id = uuid.uuid4().hex
        req.context.request_id = request_id
        req.context.started_at = time.perf_counter()
        set_request_id(request_id)
        resp.set_header("X-Request-ID", request_id)

    def process_response(self, req, resp, resource, req_succeeded):
        started = getattr(req.context, "started_at", None)
        elapsed_ms = (time.perf_counter() - started) * 1000 if started else None
        log.info(
            "request",
            extra={
                "method": req.method,
                "path": req.path,
                "status": resp.status_code,
                "duration_ms": round(elapsed_ms, 2) if elapsed_ms is not None else None,
                "user_id": getattr(getattr(req.context, "user", None), "id", None),
            },
        )
        set_request_id(None)


# Above nginx's 5.5 MB body cap, so everything that passes nginx is drained.
DRAIN_LIMIT = 8 * 1024 * 1024


class DrainUnreadBodyMiddleware:
    """When the gateway answers before reading the whole body (a 413 decided from
    Content-Length, a 401 on an upload), read the rest and throw it away: closing a
    socket with unread data resets the connection, and a proxy such as nginx then
    reports 502 instead of our answer. gunicorn's wsgi.input ends at Content-Length."""

    def process_response(self, req, resp, resource, req_succeeded):
        length = req.content_length
        if not length or length > DRAIN_LIMIT:
            return
        try:
            while req.stream.read(64 * 1024):
                pass
        except Exception:  # the client went away; nothing left to protect
            pass


class SecurityHeadersMiddleware:
    """Headers every response carries, and the CORS policy (docs/robustness.md, OWASP API8).

    X-Content-Type-Options: nosniff on every answer (JSON, the docs page, /media/ in
    development; nginx adds it to its own answers): a browser never guesses HTML or script
    from a body.

    CORS: the API is same-origin only. Browsers reach it where nginx serves it; other
    clients send a bearer token and need no CORS. So no response carries
    Access-Control-Allow-Origin (a cross-origin page cannot read any answer), and a
    preflight (OPTIONS with Origin and Access-Control-Request-Method) gets a JSON 403
    `cors_not_allowed` instead of falcon's default 200 with Allow. Allowing origins would be
    a setting listing them; none is needed today."""

    def process_request(self, req, resp):
        if req.method == "OPTIONS" and req.get_header("Origin") \
                and req.get_header("Access-Control-Request-Method"):
            raise falcon.HTTPForbidden(
                title="Forbidden", code="cors_not_allowed",
                description="Cross-origin requests are not allowed: this API is same-origin only")

    def process_response(self, req, resp, resource, req_succeeded):
        resp.set_header("X-Content-Type-Options", "nosniff")

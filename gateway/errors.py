"""The one place where failures become HTTP responses (contract decision 1).

Every error body is {"error": {"code", "message", "fields"?}}. Domain errors arrive from
the services as the same classes they raised (contracts.errors, the one catalogue of error
classes, registered with nameko as it is imported), so this table is the whole mapping
from domain to HTTP.
"""
import logging

import falcon

from contracts import errors
from gateway.rpc import ServiceTimeout

log = logging.getLogger(__name__)

STATUS_BY_ERROR = [
    # Most specific first: the first isinstance match wins.
    (ServiceTimeout, falcon.HTTP_504),
    (errors.ServiceUnavailable, falcon.HTTP_503),
    (errors.ValidationFailed, falcon.HTTP_422),
    (errors.BadRequest, falcon.HTTP_400),
    (errors.Unauthorized, falcon.HTTP_401),
    (errors.Forbidden, falcon.HTTP_403),
    (errors.NotFound, falcon.HTTP_404),
    (errors.Conflict, falcon.HTTP_409),
    (errors.PayloadTooLarge, falcon.HTTP_413),
    (errors.RateLimited, falcon.HTTP_429),
]


def error_body(code, message, fields=None, details=None):
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    if details is not None:  # contract v2 decision 3: codes that document it (user_banned)
        error["details"] = details
    return {"error": error}


def status_for(exc):
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return falcon.HTTP_500


def handle_domain_error(req, resp, exc, params):
    resp.status = status_for(exc)
    resp.media = error_body(exc.code, exc.message, exc.fields, getattr(exc, "details", None))
    if isinstance(exc, errors.Unauthorized):
        resp.set_header("WWW-Authenticate", 'Bearer realm="imageboard"')
    if isinstance(exc, errors.ServiceUnavailable):
        resp.set_header("Retry-After", "5")


def _code_from_title(title):
    words = (title or "error").lower().replace("-", " ").split()
    return "_".join(w for w in words if not w.isdigit()) or "error"


def handle_http_error(req, resp, exc, params):
    """Falcon's own errors (404 route, 405, malformed JSON, 413...) in our body shape."""
    resp.status = exc.status
    code = getattr(exc, "code", None) or _code_from_title(exc.title)
    title = " ".join(w for w in (exc.title or "").split() if not w.isdigit())
    message = exc.description or title or "Request failed"
    if isinstance(exc, falcon.HTTPMethodNotAllowed):
        message = f"Method {req.method} is not allowed here"
    elif isinstance(exc, falcon.HTTPRouteNotFound):
        message = f"No such endpoint: {req.path}"
    resp.media = error_body(code, message)
    for name, value in (exc.headers or {}).items():
        resp.set_header(name, value)


def handle_unexpected(req, resp, exc, params):
    """A bug: log the traceback, give the client a JSON 500 without it."""
    log.exception("unhandled error", extra={"path": req.path, "method": req.method})
    resp.status = falcon.HTTP_500
    resp.media = error_body("internal_error", "Internal server error")


def register_error_handlers(app):
    # Falcon picks the most specific registered handler for each exception.
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(errors.DomainError, handle_domain_error)

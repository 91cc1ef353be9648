"""Validate a real HTTP response against gateway/openapi.py: its status must be documented
for the operation, its body must match that status's schema (formats checked), and the
documented headers (X-Total-Count, Link, WWW-Authenticate...) must be present."""
import datetime
import re
from urllib.parse import urlparse

import falcon.inspect
import jsonschema

from gateway.app import create_app
from gateway.openapi import openapi_document

DOCUMENT = openapi_document()
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
APP_CONFIG = {"JWT_SECRET": "k" * 32, "JWT_LIFETIME_SECONDS": 60, "MEDIA_ROOT": "/tmp",
              "SERVICES": ["users", "posts", "comments", "notifications", "analytics"],
              "ACCESS_SOURCES": []}  # no access feed thread for a document check


def normalise(path):
    """'/api/posts/{post_id:int(min=1)}/' and '/api/posts/{id}' are the same route."""
    return re.sub(r"\{[^}]*\}", "{}", path).rstrip("/") or "/"


def routed_operations():
    """(METHOD, normalised path) of every responder of the gateway's router, plus GET on
    each static route (as /prefix/{})."""
    app = create_app(APP_CONFIG, rpc=object())
    operations = set()
    for route in falcon.inspect.inspect_routes(app):
        for method in route.methods:
            if method.method in METHODS and not method.internal:
                operations.add((method.method, normalise(route.path)))
    for static in falcon.inspect.inspect_static_routes(app):
        operations.add(("GET", normalise(static.prefix) + "/{}"))
    return operations


def documented_operations():
    """{(METHOD, normalised path): operationId} of the document."""
    return {(method.upper(), normalise(path)): op["operationId"]
            for path, item in DOCUMENT["paths"].items() for method, op in item.items()
            if "x-served-by" not in op}  # the stream process's operations
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value):
    if not isinstance(value, str):
        return True
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("timestamp without an explicit UTC offset (decision 2)")
    return True


@FORMATS.checks("uri", raises=ValueError)
def _uri(value):
    if not isinstance(value, str):
        return True
    parts = urlparse(value)
    if not (parts.scheme in ("http", "https") and parts.netloc):
        raise ValueError("not an absolute http(s) URL")
    return True


def _template_regex(template):
    pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template.rstrip("/")))
    return re.compile(pattern + "/?")


TEMPLATES = [(t, _template_regex(t)) for t in DOCUMENT["paths"]]


def operation_for(method, path):
    path = urlparse(path).path
    for template, regex in TEMPLATES:
        if regex.fullmatch(path):
            item = DOCUMENT["paths"][template]
            assert method.lower() in item, f"{method} {template} is not documented"
            return template, item[method.lower()]
    raise AssertionError(f"no documented path matches {path}")


def schema_for(method, path, status):
    template, op = operation_for(method, path)
    response = op["responses"].get(str(status))
    assert response is not None, (
        f"{method} {template} answered {status}, documented: {sorted(op['responses'])}")
    return response


def assert_conforms(resp, method=None, path=None):
    """Check a `requests` response against the document; returns its JSON body (or None)."""
    method = method or resp.request.method
    path = path or resp.request.path_url
    response = schema_for(method, path, resp.status_code)
    for header in response.get("headers", {}):
        if header in ("Link",):  # only present when there is a neighbour page
            continue
        if header == "X-Total-Count" and "cursor" in urlparse(path).query:
            continue  # contract v2 section 3.6: cursor pages carry no total
        assert header in resp.headers, f"{method} {path} {resp.status_code}: no {header} header"
    content = response.get("content")
    if not content:
        assert not resp.content, f"{method} {path} {resp.status_code}: unexpected body"
        return None
    media_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
    assert media_type in content, f"{method} {path}: {media_type} not in {list(content)}"
    if media_type != "application/json":
        return resp.text
    body = resp.json()
    schema = dict(content[media_type]["schema"], components=DOCUMENT["components"])
    jsonschema.Draft202012Validator(schema, format_checker=FORMATS).validate(body)
    return body

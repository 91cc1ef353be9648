"""Reports, bans and the modlog (contract v2 sections 5.1-5.3): thin resources over the
moderation service. Admin rights come from the access state (require_admin)."""
from urllib.parse import parse_qsl

import falcon

from contracts.errors import BadRequest
from gateway.auth import require_admin, require_user
from gateway.media import json_body
from gateway.pagination import envelope, parse_page


def _caller(req):
    user = req.context.user
    return {"id": user.id, "username": user.username}


def single_param(req, name, error_code):
    """A query parameter given at most once (blank = absent), else 400 `error_code`."""
    values = [v for k, v in parse_qsl(req.query_string, keep_blank_values=True) if k == name]
    values = [v for v in values if v.strip()]
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest(f"{name} may be given once", code=error_code,
                         fields={name: "may be given once"})
    return values[0]


def optional_json_body(req):
    """A JSON object if the request has a body, else {} (DELETE .../ban/)."""
    if not req.content_length and req.get_header("Transfer-Encoding") is None:
        return {}
    return json_body(req)


class ReportsResource:
    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_user)
    def on_post(self, req, resp):
        resp.media = self.rpc.write("moderation", "create_report", json_body(req), _caller(req))
        resp.status = falcon.HTTP_201

    @falcon.before(require_admin)
    def on_get(self, req, resp):
        status = single_param(req, "status", "invalid_status")
        page = parse_page(req)
        result = self.rpc.read("moderation", "list_reports", status, page.page, page.limit)
        resp.media = envelope(req, page, result)


class ReportResolveResource:
    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_admin)
    def on_post(self, req, resp, report_id):
        resp.media = self.rpc.write("moderation", "resolve_report", report_id, json_body(req),
                                    _caller(req))


class BanResource:
    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_admin)
    def on_post(self, req, resp, user_id):
        resp.media = self.rpc.write("moderation", "ban_user", user_id, json_body(req),
                                    _caller(req))

    @falcon.before(require_admin)
    def on_delete(self, req, resp, user_id):
        self.rpc.write("moderation", "unban_user", user_id, optional_json_body(req), _caller(req))
        resp.status = falcon.HTTP_204


class ModlogResource:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        action = single_param(req, "action", "invalid_action")
        page = parse_page(req)
        user = req.context.user
        is_admin = bool(user is not None and user.is_admin)
        result = self.rpc.read("moderation", "modlog", action, page.page, page.limit, is_admin)
        resp.media = envelope(req, page, result)

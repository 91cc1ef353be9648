"""Notifications of the calling user (contract: notifications; decisions 3 and 7)."""
from urllib.parse import parse_qsl

import falcon

from gateway.auth import require_user
from gateway.pagination import parse_page, set_list_headers
from contracts.errors import BadRequest

BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def unread_only(req):
    values = [v for k, v in parse_qsl(req.query_string, keep_blank_values=True) if k == "unread_only"]
    if not values:
        return False
    if len(values) > 1 or values[0].lower() not in BOOLEANS:
        raise BadRequest("unread_only must be true or false", code="invalid_unread_only",
                         fields={"unread_only": "must be true or false"})
    return BOOLEANS[values[0].lower()]


@falcon.before(require_user)
class NotificationsResource:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        """The documented plain array, newest first; total and neighbours in headers."""
        only_unread, page = unread_only(req), parse_page(req)
        result = self.rpc.read("notifications", "list_notifications", req.context.user.id,
                               only_unread, page.page, page.limit)
        resp.media = result["results"]
        set_list_headers(req, resp, page, result["count"])


@falcon.before(require_user)
class MarkReadResource:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_patch(self, req, resp, notification_id):
        resp.media = self.rpc.write("notifications", "mark_read", req.context.user.id, notification_id)


@falcon.before(require_user)
class UnreadCountResource:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = self.rpc.read("notifications", "unread_count", req.context.user.id)


@falcon.before(require_user)
class MarkAllReadResource:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_post(self, req, resp):
        resp.media = self.rpc.write("notifications", "mark_all_read", req.context.user.id)

from contracts.errors import BadRequest
from imageboard.timefmt import iso
from imageboard.validation import Schema, String

MAX_PAGE_SIZE = 100
MAX_PAGE = 2**31 - 1


def check_page(page, limit):
    """Decision 3 (the gateway checks first; this guards direct RPC callers): 400."""
    for name, value, top in (("page", page, MAX_PAGE), ("limit", limit, MAX_PAGE_SIZE)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise BadRequest(f"{name} must be an integer from 1 to {top}", code="invalid_pagination",
                             fields={name: f"must be an integer from 1 to {top}"})


class BroadcastSchema(Schema):
    fields = {"message": String(min_length=1, max_length=1000, strip=True)}


def notification_public(notification):
    """The contract's shape: {id, type, message, data{post_id?, comment_id?, actor_id}, read, created_at}."""
    return {
        "id": notification.id,
        "type": notification.type,
        "message": notification.message,
        "data": notification.data,
        "read": notification.read,
        "created_at": iso(notification.created_at),
    }

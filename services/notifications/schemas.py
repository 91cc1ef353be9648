"""Response shape of a notification (its model: contracts.schemas.notifications, where the
operators' Broadcast body is too)."""
from imageboard.timefmt import iso


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

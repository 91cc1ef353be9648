"""What the data export (contract v2 section 6.4) needs from the notifications service:
every notification of a user, oldest first, in the list shape."""
from imageboard.pagination import is_id
from services.notifications.models import Notification
from services.notifications.schemas import notification_public


def notifications_of_user(user_id):
    if not is_id(user_id):
        return []
    rows = Notification.select().where(Notification.user_id == user_id).order_by(Notification.id)
    return [notification_public(n) for n in rows]

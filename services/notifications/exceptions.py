from imageboard.errors import Forbidden, NotFound


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    default_message = "Notification not found"


class NotYourNotification(Forbidden):
    code = "notification_forbidden"
    default_message = "This notification belongs to another user"

"""Every domain error a client can see, with its stable code: the one catalogue of them.

Services raise these; nameko serialises them over RPC and, because every subclass is
registered in nameko's exception registry, the gateway receives the same class back and
maps it to an HTTP status in one place (gateway/errors.py). Subclasses defined in a
service's exceptions.py register themselves as soon as that module is imported.
"""
from nameko.exceptions import deserialize_to_instance


class DomainError(Exception):
    """Base of every error a client may see. `code` is machine-readable, stable."""

    code = "error"
    default_message = "Request failed"

    def __init__(self, message=None, code=None, fields=None):
        message = message or self.default_message
        code = code or self.code
        # args must hold everything: nameko serialises exc.args and rebuilds cls(*args).
        # nameko stringifies None, so "no fields" travels as an empty dict.
        super().__init__(message, code, fields or {})
        self.message = message
        self.code = code
        self.fields = fields or None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        deserialize_to_instance(cls)

    def __str__(self):
        return self.message


class BadRequest(DomainError):
    """Malformed request: missing required field, bad query parameter, duplicate signup."""

    code = "bad_request"
    default_message = "Bad request"


class ValidationFailed(DomainError):
    """Fields present but their values are invalid (HTTP 422)."""

    code = "validation_error"
    default_message = "Validation failed"


class Unauthorized(DomainError):
    code = "not_authenticated"
    default_message = "Authentication required"


class Forbidden(DomainError):
    code = "forbidden"
    default_message = "You do not have permission to do this"


class NotFound(DomainError):
    code = "not_found"
    default_message = "Not found"


class Conflict(DomainError):
    code = "conflict"
    default_message = "Conflict"


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    default_message = "Payload too large"


class RateLimited(DomainError):
    """Past a per-user limit (contract v2 section 3.4, HTTP 429 with Retry-After)."""

    code = "rate_limited"
    default_message = "Too many requests"


class ServiceUnavailable(DomainError):
    """A dependency (database, broker, ClickHouse) cannot be reached (HTTP 503)."""

    code = "service_unavailable"
    default_message = "Service unavailable"


# --- users --------------------------------------------------------------------
class UserNotFound(NotFound):
    code = "user_not_found"
    default_message = "User not found"


class UserAlreadyExists(BadRequest):
    """The contract answers a duplicate username or email with 400."""

    code = "user_exists"
    default_message = "A user with this username or email already exists"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    default_message = "Invalid username or password"


class TokenRevoked(Unauthorized):
    """Contract v2 §3.3: logged out, logged out everywhere, password changed, account
    deleted, or a token without jti/ver (issued before revocation existed)."""

    code = "token_revoked"
    default_message = "The token has been revoked; log in again"


class InvalidPassword(ValidationFailed):
    """Contract v2 decision 21: a wrong password is a bad value (422), not a dead token."""

    code = "invalid_password"
    default_message = "The password is not correct"


class UserBanned(Forbidden):
    """Contract v2 §3.2/§3.3: a banned user's write. Raised by the gateway only; `details`
    {reason, expires_at} goes into the error body."""

    code = "user_banned"
    default_message = "You are banned"

    def __init__(self, message=None, code=None, fields=None, details=None):
        super().__init__(message, code, fields)
        self.details = details


class AccountErased(TokenRevoked):
    """A write by a user whose account was erased, arriving before the revocation of their
    tokens reached the gateway (contract v2 section 3.3 names the code)."""

    default_message = "This account was deleted"


# --- posts --------------------------------------------------------------------
class PostNotFound(NotFound):
    code = "post_not_found"
    default_message = "Post not found"


class NotPostAuthor(Forbidden):
    code = "not_post_author"
    default_message = "Only the author or an administrator may delete this post"


class InvalidOrdering(BadRequest):
    code = "invalid_ordering"
    default_message = "Unknown ordering"


class InvalidImage(BadRequest):
    """Contract decision 10: not a decodable JPEG/PNG, or too many pixels -> 400."""

    code = "invalid_image"
    default_message = "The image must be a JPEG or PNG file"


class InvalidSearch(BadRequest):
    """Contract v2 section 3.5: a search of over 200 characters (or not text)."""

    code = "invalid_search"
    default_message = "search must be at most 200 characters"


class InvalidCursor(BadRequest):
    """Contract v2 section 3.6: a cursor that is malformed, altered, from another list or
    ordering, or used with search or a likes_count ordering."""

    code = "invalid_cursor"
    default_message = "Invalid cursor"


# --- comments -----------------------------------------------------------------
class InvalidParent(BadRequest):
    """A parent that does not exist or belongs to another post: the body refers to
    something it may not (400, like the contract's "validation error" for comments);
    404 stays reserved for the post itself."""

    code = "invalid_parent"
    default_message = "The parent comment does not exist on this post"


class InvalidPostId(BadRequest):
    code = "invalid_post_id"
    default_message = "post_id must be a positive integer"


class CommentNotFound(NotFound):
    """Contract v2 section 4.2: a missing comment, a deleted one no longer listed, or (for
    everyone but admins) a removed one."""

    code = "comment_not_found"
    default_message = "Comment not found"


# --- content lifecycle (contract v2 section 4) ------------------------------------
class NotContentAuthor(Forbidden):
    """An edit by someone other than the author (admins too), or a comment deletion by
    someone who is neither its author nor an admin."""

    code = "forbidden"
    default_message = "Only the author may do this"


class AlreadyRemoved(Conflict):
    code = "already_removed"
    default_message = "This item is removed already"


class NotRemoved(Conflict):
    code = "not_removed"
    default_message = "This item is not removed"


# --- notifications ------------------------------------------------------------
class NotificationNotFound(NotFound):
    code = "notification_not_found"
    default_message = "Notification not found"


class NotYourNotification(Forbidden):
    code = "notification_forbidden"
    default_message = "This notification belongs to another user"


# --- analytics ----------------------------------------------------------------
class InvalidPeriod(BadRequest):
    """Contract decision 9: bad date format or end before start -> 400."""

    code = "invalid_period"
    default_message = "start_date and end_date must be YYYY-MM-DD dates, end not before start"


class InvalidDays(BadRequest):
    """Contract v2 section 8.3: `days` of the moderation analytics is 1-365."""

    code = "invalid_days"
    default_message = "days must be an integer from 1 to 365"


class InvalidUserId(BadRequest):
    code = "invalid_user_id"
    default_message = "user_id must be a positive integer"


class AnalyticsUserNotFound(NotFound):
    code = "user_not_found"
    default_message = "User not found"


class AnalyticsUnavailable(ServiceUnavailable):
    code = "analytics_unavailable"
    default_message = "The analytics store (ClickHouse) is not available"


# --- moderation (contract v2 sections 5.1-5.3) --------------------------------
class CommentNotFound(NotFound):
    code = "comment_not_found"
    default_message = "Comment not found"


class ReportNotFound(NotFound):
    code = "report_not_found"
    default_message = "Report not found"


class NotBanned(NotFound):
    code = "not_banned"
    default_message = "The user has no current ban"


class CannotBanAdmin(Forbidden):
    code = "cannot_ban_admin"
    default_message = "Administrators cannot be banned"


class InvalidStatus(BadRequest):
    code = "invalid_status"
    default_message = "status must be open or resolved"


class InvalidAction(BadRequest):
    code = "invalid_action"
    default_message = "Unknown modlog action"


class OwnContent(ValidationFailed):
    code = "own_content"
    default_message = "You cannot report your own post or comment"


class AlreadyResolved(Conflict):
    code = "already_resolved"
    default_message = "The report is already resolved"


# --- live updates (contract v2 section 7) -----------------------------------------
class InvalidStream(BadRequest):
    code = "invalid_stream"
    default_message = "streams must be a comma list of public, user, moderation, post:<id>"


class TooManyStreams(BadRequest):
    code = "too_many_streams"
    default_message = "Too many streams in one connection"


class InvalidTicket(Unauthorized):
    code = "invalid_ticket"
    default_message = "The stream ticket is unknown, used or expired"


class TooManyConnections(RateLimited):
    code = "too_many_connections"
    default_message = "Too many open stream connections"


class StreamUnavailable(ServiceUnavailable):
    code = "stream_unavailable"
    default_message = "Live updates are not available right now"


deserialize_to_instance(DomainError)

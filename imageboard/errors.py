"""Domain errors shared by every service and understood by the gateway.

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


class ServiceUnavailable(DomainError):
    """A dependency (database, broker, ClickHouse) cannot be reached (HTTP 503)."""

    code = "service_unavailable"
    default_message = "Service unavailable"


deserialize_to_instance(DomainError)

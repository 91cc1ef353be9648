"""The errors this service raises. They are declared in contracts.errors, the one catalogue
of error codes, so the gateway knows them without importing this service."""
from contracts.errors import (  # noqa: F401
    InvalidDays, InvalidPeriod, InvalidUserId, AnalyticsUserNotFound, AnalyticsUnavailable,
)

from imageboard.errors import BadRequest, NotFound, ServiceUnavailable


class InvalidPeriod(BadRequest):
    """Contract decision 9: bad date format or end before start -> 400."""

    code = "invalid_period"
    default_message = "start_date and end_date must be YYYY-MM-DD dates, end not before start"


class InvalidUserId(BadRequest):
    code = "invalid_user_id"
    default_message = "user_id must be a positive integer"


class AnalyticsUserNotFound(NotFound):
    code = "user_not_found"
    default_message = "User not found"


class AnalyticsUnavailable(ServiceUnavailable):
    code = "analytics_unavailable"
    default_message = "The analytics store (ClickHouse) is not available"

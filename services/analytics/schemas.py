"""Query parameters of the analytics endpoints (contract decision 9)."""
import re
from datetime import date

from contracts.errors import BadRequest
from services.analytics.exceptions import InvalidDays, InvalidPeriod, InvalidUserId

DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
ID_RE = re.compile(r"[0-9]{1,18}")
# Far beyond any real report; keeps one request from asking for a million-day range.
MAX_PERIOD_DAYS = 3660
# GET /api/analytics/moderation/?days=N (contract v2 section 8.3)
MODERATION_DAYS = (1, 365)
MODERATION_DEFAULT_DAYS = 30
DAYS_RE = re.compile(r"[0-9]{1,3}")


def parse_period(start_text, end_text):
    """(start, end) as dates, both inclusive. Missing -> 400, malformed or reversed -> 400."""
    missing = {name: "This query parameter is required."
               for name, value in (("start_date", start_text), ("end_date", end_text))
               if value in (None, "")}
    if missing:
        raise BadRequest("start_date and end_date are required", code="missing_fields",
                         fields=missing)
    start, end = _date("start_date", start_text), _date("end_date", end_text)
    if end < start:
        raise InvalidPeriod("end_date is before start_date",
                            fields={"end_date": "must not be before start_date"})
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidPeriod(f"The period may span at most {MAX_PERIOD_DAYS} days",
                            fields={"end_date": f"at most {MAX_PERIOD_DAYS} days after start_date"})
    return start, end


def _date(name, text):
    # date.fromisoformat alone would also take "20261127": the contract says YYYY-MM-DD.
    if not isinstance(text, str) or not DATE_RE.fullmatch(text):
        raise InvalidPeriod(f"{name} must be a date in YYYY-MM-DD format",
                            fields={name: "must be YYYY-MM-DD"})
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidPeriod(f"{name} is not a valid date", fields={name: "is not a valid date"})


def parse_user_id(text, caller_id):
    """user_id defaults to the caller; otherwise a positive integer."""
    if text in (None, ""):
        return caller_id
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str) or not ID_RE.fullmatch(text) or int(text) == 0:
        raise InvalidUserId(fields={"user_id": "must be a positive integer"})
    return int(text)


def parse_days(text):
    """The moderation period's length: 1-365 days, 30 when missing; anything else 400."""
    if text in (None, ""):
        return MODERATION_DEFAULT_DAYS
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    low, high = MODERATION_DAYS
    if not isinstance(text, str) or not DAYS_RE.fullmatch(text) or not low <= int(text) <= high:
        raise InvalidDays(fields={"days": f"must be an integer from {low} to {high}"})
    return int(text)

from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc)


def iso(dt):
    """Contract decision 2: ISO 8601 in UTC with an explicit offset."""
    return dt.astimezone(timezone.utc).isoformat() if dt is not None else None

"""The moderation queue gauges (imageboard/metrics.py): what the moderation service's timer
read, with the oldest open report's age worked out when Prometheus scrapes."""
from datetime import datetime, timezone

from prometheus_client import REGISTRY, generate_latest

from imageboard import metrics

OPEN = "imageboard_moderation_open_reports"
AGE = "imageboard_moderation_oldest_open_report_age_seconds"
CREATED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def test_the_age_is_counted_at_scrape_time_from_the_oldest_created_at(monkeypatch):
    now = [CREATED.timestamp() + 90]
    monkeypatch.setattr(metrics, "_clock", lambda: now[0])
    try:
        metrics.set_moderation_queue(4, CREATED)
        assert REGISTRY.get_sample_value(OPEN) == 4
        assert REGISTRY.get_sample_value(AGE) == 90
        now[0] += 86400  # no refresh in between: the report keeps ageing
        assert REGISTRY.get_sample_value(AGE) == 86490
        text = generate_latest(REGISTRY).decode()
        assert f"{OPEN} 4.0" in text and f"{AGE} 86490.0" in text

        # A report stamped by a replica whose clock runs ahead: 0, never negative.
        metrics.set_moderation_queue(1, datetime.fromtimestamp(now[0] + 3, timezone.utc))
        assert REGISTRY.get_sample_value(AGE) == 0
    finally:
        metrics.set_moderation_queue(0, None)
    assert REGISTRY.get_sample_value(OPEN) == 0
    assert REGISTRY.get_sample_value(AGE) == 0

"""GET /api/analytics/moderation/ (contract v2 section 8.3) over real Kafka and ClickHouse:
moderation events go through the topic, the pipeline and ClickHouse, written twice and
re-sent, and the analytics service's answer is compared with the figures computed here."""
import statistics
import time
from datetime import timedelta

import pytest

from contracts.errors import BadRequest
from imageboard.timefmt import utcnow
from tests import synthetic_events as syn
from tests.integration.test_analytics import analytics, drain, pipeline, produce, rows_of  # noqa: F401 (fixtures)

pytestmark = pytest.mark.integration


def report(report_id, when, reason="spam", target=("post", 12)):
    return syn.envelope("report.created", report_id, 5, {
        "report_id": report_id, "target_type": target[0], "target_id": target[1],
        "post_id": 12, "target_author_id": 9, "reporter_id": 5, "reason": reason}, when)


def resolved(report_id, reported_at, when, action="dismiss"):
    return syn.envelope("report.resolved", report_id, 1, {
        "report_id": report_id, "target_type": "post", "target_id": 12, "action": action,
        "resolved_by": 1, "reported_at": reported_at.isoformat()}, when)


def removed(target_id, reason, when, target_type="comment"):
    return syn.envelope("content.removed", 12, 1, {
        "target_type": target_type, "target_id": target_id, "post_id": 12,
        "post_title": "Sunset", "author_id": 9, "reason": reason, "removed_by": 1,
        "report_id": None}, when)


def test_moderation_figures_are_exact_despite_copies(ch_config, ch, pipeline, analytics):
    today = utcnow().date()
    day = lambda n, s=3600: syn.at(today - timedelta(days=n), s)  # noqa: E731
    made = {1: day(40), 2: day(3), 3: day(3, 7200), 4: day(1), 5: day(0, 60), 6: day(0, 120)}
    # Resolved in the 7-day period: 1 (made long before it), 2, 3 and 4; 5 and 6 stay
    # open, and so does 7, made 45 days ago and never resolved.
    made[7] = day(45)
    resolutions = {1: day(2, 100), 2: day(2, 200), 3: day(2, 300), 4: day(0, 30)}
    events = [report(i, when) for i, when in made.items()]
    events += [resolved(i, made[i], when) for i, when in resolutions.items()]
    events += [removed(88, "spam", day(2)), removed(89, "spam", day(1)),
               removed(12, "off-topic", day(0), "post"), removed(90, "abuse", day(0)),
               removed(91, "old", day(20))]
    produce(ch_config, events)
    p = pipeline()
    drain(p, ch, len(events))
    batch = rows_of(events)  # the same batch written again (a crash before the commit)
    p.sink.write(batch)
    produce(ch_config, events[:6])  # and re-sent by the relay at new offsets
    deadline = time.monotonic() + 20
    while ch.execute("SELECT count() FROM events")[0][0] < 2 * len(events) + 6:
        assert time.monotonic() < deadline, "copies never arrived"
        p.step()

    answer = analytics.moderation_stats(days=7)
    start = today - timedelta(days=6)
    assert answer["period"] == {"start_date": start.isoformat(), "end_date": today.isoformat()}
    assert answer["open_reports"] == 3  # 5, 6, 7
    per_day = {e["date"]: (e["created"], e["resolved"]) for e in answer["reports_per_day"]}
    assert list(per_day) == [(start + timedelta(days=i)).isoformat() for i in range(7)]
    expected = {d: (0, 0) for d in per_day}
    expected[(today - timedelta(days=3)).isoformat()] = (2, 0)
    expected[(today - timedelta(days=2)).isoformat()] = (0, 3)
    expected[(today - timedelta(days=1)).isoformat()] = (1, 0)
    expected[today.isoformat()] = (2, 1)
    assert per_day == expected
    waits = [(resolutions[i] - made[i]).total_seconds() for i in resolutions]
    assert answer["median_time_to_resolve_seconds"] == statistics.median(waits)
    assert answer["removals_by_reason"] == [
        {"reason": "spam", "count": 2}, {"reason": "abuse", "count": 1},
        {"reason": "off-topic", "count": 1}]

    one_day = analytics.moderation_stats(days=1)
    assert one_day["reports_per_day"] == [{"date": today.isoformat(), "created": 2, "resolved": 1}]
    assert one_day["median_time_to_resolve_seconds"] == (resolutions[4] - made[4]).total_seconds()
    assert len(analytics.moderation_stats()["reports_per_day"]) == 30  # the default


def test_no_resolution_gives_a_null_median_and_bad_days_a_400(ch_config, ch, pipeline, analytics):
    answer = analytics.moderation_stats(days="365")
    assert answer["open_reports"] == 0
    assert answer["median_time_to_resolve_seconds"] is None
    assert answer["removals_by_reason"] == []
    assert len(answer["reports_per_day"]) == 365
    for bad in ("0", "366", "-1", "x", "1.5", True):
        with pytest.raises(BadRequest) as caught:
            analytics.moderation_stats(days=bad)
        assert caught.value.code == "invalid_days"

"""The moderation events (contract v2 sections 8.1, 8.2): their topic, the SYSTEM
notifications of bans with the contract's exact words, and the analytics pipeline storing
every new type in `events`."""
import json

import pytest

from analytics_pipeline.rows import parse, rows_for
from contracts import events as ev
from contracts.events import decode
from imageboard.events.envelope import ALL_TOPICS, make_event
from services.notifications.rules import notifications_for

BANNED = {"user_id": 8, "reason": "spam", "expires_at": "2026-12-04T14:32:42+00:00",
          "banned_by": 1, "report_id": None}


def typed(event_type, key, actor_id, payload):
    return decode(json.dumps(make_event(event_type, key, actor_id, payload)))


def test_the_new_types_go_to_moderation_events_which_is_created_like_the_others():
    for name in ("report.created", "report.resolved", "content.removed", "content.restored",
                 "user.banned", "user.unbanned"):
        assert ev.CATALOGUE.latest(name).topic == "moderation-events", name
    assert "moderation-events" in ALL_TOPICS
    assert [f for f, _ in ev.CATALOGUE.get("user.banned", 1).fields()] == [
        "user_id", "reason", "expires_at", "banned_by", "report_id"]
    assert [f for f, _ in ev.CATALOGUE.get("report.created", 1).fields()] == [
        "report_id", "target_type", "target_id", "post_id", "target_author_id", "reporter_id",
        "reason"]


@pytest.mark.parametrize("payload, text", [
    (BANNED, "You are banned until 2026-12-04T14:32:42+00:00: spam"),
    (dict(BANNED, expires_at=None, reason="abuse"), "You are banned permanently: abuse"),
])
def test_a_ban_notifies_the_user_anonymously(payload, text):
    [draft] = notifications_for(typed("user.banned", 8, 1, payload))
    assert (draft.user_id, draft.type, draft.message, draft.data) == (8, "SYSTEM", text,
                                                                      {"actor_id": None})


def test_an_unban_notifies_the_user_and_reports_notify_nobody():
    [draft] = notifications_for(typed("user.unbanned", 8, 1, {"user_id": 8, "reason": "",
                                                              "unbanned_by": 1}))
    assert (draft.user_id, draft.type, draft.message, draft.data) == (
        8, "SYSTEM", "Your ban was lifted", {"actor_id": None})
    created = typed("report.created", 31, 5, {
        "report_id": 31, "target_type": "post", "target_id": 12, "post_id": 12,
        "target_author_id": 9, "reporter_id": 5, "reason": "spam"})
    assert notifications_for(created) == []


def test_a_ban_expiry_in_another_offset_is_written_in_utc():
    event = typed("user.banned", 8, 1, dict(BANNED, expires_at="2026-12-04T16:32:42+02:00"))
    [draft] = notifications_for(event)
    assert draft.message == "You are banned until 2026-12-04T14:32:42+00:00: spam"


def test_the_pipeline_stores_every_new_type_in_events():
    raw = json.dumps(make_event("user.banned", 8, 1, BANNED)).encode()
    rows = rows_for(parse(raw), "moderation-events", 0, 7)
    assert [table for table, _ in rows] == ["events"]
    assert rows[0][1][1] == "user.banned" and rows[0][1][-3:] == ("moderation-events", 0, 7)


def test_removed_rows_are_told_by_their_flag_or_time_and_rows_without_either_are_not():
    from types import SimpleNamespace

    from imageboard.moderation import is_removed
    assert not is_removed(SimpleNamespace(id=1))
    assert not is_removed(SimpleNamespace(removed=False, removed_at=None))
    assert is_removed(SimpleNamespace(removed=True))
    assert is_removed(SimpleNamespace(removed_at="2026-11-27T14:00:00+00:00"))

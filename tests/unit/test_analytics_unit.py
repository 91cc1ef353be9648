"""Analytics without servers: parameter rules (decision 9), envelope checks of the pipeline,
and the gateway's access rules for the two endpoints (decision 8)."""
import json
from datetime import date, datetime, timezone

import pytest

from tests import synthetic_events as syn
from analytics_pipeline.rows import COLUMNS, Malformed, parse, rows_for
from analytics_store.schema import statements
from contracts.errors import BadRequest, ServiceUnavailable
from imageboard.timefmt import utcnow
from services.analytics.exceptions import InvalidPeriod, InvalidUserId
from services.analytics.schemas import parse_period, parse_user_id
from tests.unit.gateway_fakes import CONFIG, FakeRpc, grant_admin
from tests.unit.test_gateway_unit import auth


@pytest.mark.parametrize("start, end, days", [
    ("2026-01-01", "2026-01-01", 1), ("2026-01-01", "2026-01-31", 31), ("2024-02-28", "2024-03-01", 3),
])
def test_period_is_inclusive(start, end, days):
    first, last = parse_period(start, end)
    assert (last - first).days + 1 == days and first == date.fromisoformat(start)


@pytest.mark.parametrize("start, end", [
    ("2026-01-02", "2026-01-01"),   # end before start
    ("20260101", "2026-01-02"),     # fromisoformat would take it; the contract does not
    ("2026-1-1", "2026-01-02"),
    ("2026-02-30", "2026-03-01"),   # no such day
    ("2026-01-01T00:00", "2026-01-02"),
    ("2026-01-01", "2040-01-01"),   # longer than ten years
])
def test_bad_periods_are_400(start, end):
    with pytest.raises(InvalidPeriod) as err:
        parse_period(start, end)
    assert isinstance(err.value, BadRequest) and err.value.fields


def test_missing_dates_are_400_naming_the_fields():
    with pytest.raises(BadRequest) as err:
        parse_period(None, "")
    assert set(err.value.fields) == {"start_date", "end_date"}


def test_user_id_defaults_to_the_caller_and_must_be_positive():
    assert parse_user_id(None, 5) == 5 and parse_user_id("", 5) == 5
    assert parse_user_id("12", 5) == 12
    for bad in ("0", "-3", "abc", "1.5", "9" * 30):
        with pytest.raises(InvalidUserId):
            parse_user_id(bad, 5)


def test_a_documented_event_becomes_a_typed_row_and_an_events_row():
    event = syn.post_like(True, 3, 1, "hello", 2, "bob", 1, utcnow())
    rows = rows_for(parse(json.dumps(event).encode()), "post-events", 0, 42)
    tables = dict(rows)
    assert set(tables) == {"likes", "events"}
    likes = dict(zip(COLUMNS["likes"], tables["likes"]))
    assert likes["delta"] == 1 and likes["post_id"] == 3 and likes["username"] == "bob"
    assert likes["day"] == datetime.fromtimestamp(likes["occurred_at"], timezone.utc).date()
    assert dict(zip(COLUMNS["events"], tables["events"]))["offset"] == 42


def test_like_rows_keep_the_microseconds_that_order_toggles_within_a_second():
    when = datetime(2026, 3, 1, 12, 0, 5, 999999, tzinfo=timezone.utc)
    earlier = syn.post_like(True, 3, 1, "t", 2, "bob", 1, when.replace(microsecond=1))
    later = syn.post_like(False, 3, 1, "t", 2, "bob", 0, when)
    (_, first), _ = rows_for(parse(json.dumps(earlier).encode()), "post-events", 0, 1)
    (_, second), _ = rows_for(parse(json.dumps(later).encode()), "post-events", 0, 2)
    first, second = dict(zip(COLUMNS["likes"], first)), dict(zip(COLUMNS["likes"], second))
    assert first["occurred_at"] == second["occurred_at"] == int(when.timestamp())
    assert second["occurred_us"] == int(when.timestamp()) * 1_000_000 + 999_999
    assert first["occurred_us"] == int(when.timestamp()) * 1_000_000 + 1
    # The same instant written with another offset is the same time (no microsecond lost).
    shifted = dict(earlier, occurred_at="2026-03-01T14:00:05.000001+02:00")
    (_, third), _ = rows_for(parse(json.dumps(shifted).encode()), "post-events", 0, 3)
    assert dict(zip(COLUMNS["likes"], third))["occurred_us"] == first["occurred_us"]


def test_types_without_a_typed_table_are_kept_in_events_only():
    event = syn.envelope("notification.read", 1, 1, {"notification_id": 1, "user_id": 1}, utcnow())
    assert [table for table, _ in rows_for(parse(json.dumps(event)), "t", 0, 0)] == ["events"]


def test_types_the_catalogue_does_not_declare_are_malformed():
    event = syn.envelope("notification.read", 1, 1, {"notification_id": 1, "user_id": 1}, utcnow())
    with pytest.raises(Malformed, match="unknown event type 'post.shared'") as refused:
        parse(json.dumps(dict(event, type="post.shared")))
    assert refused.value.kind == "unknown_type" and refused.value.event_type == "post.shared"


@pytest.mark.parametrize("mutate, reason", [
    (lambda e: e.pop("event_id"), r"missing envelope fields \['event_id'\]"),
    (lambda e: e.update(event_id="nope"), "event_id: Invalid UUID"),
    (lambda e: e.update(occurred_at="yesterday"), "occurred_at: Invalid RFC3339"),
    (lambda e: e.update(occurred_at="2026-01-01T00:00:00"), "occurred_at: .* timezone"),
    (lambda e: e.update(occurred_at="1969-12-31T23:59:59+00:00"), "outside ClickHouse's DateTime"),
    (lambda e: e.update(version=2), "unsupported version 2 of post.created"),
    (lambda e: e.update(payload=[]), "payload: Expected `object`"),
    (lambda e: e.update(actor_id="7"), "actor_id: Expected `int | null`"),
])
def test_broken_envelopes_are_malformed(mutate, reason):
    event = syn.post_created(1, 1, "alice", "t", utcnow())
    mutate(event)
    with pytest.raises(Malformed, match=reason):
        parse(json.dumps(event))


def test_broken_payloads_are_malformed_with_the_field():
    event = syn.post_created(1, 1, "alice", "t", utcnow())
    del event["payload"]["author_username"]
    with pytest.raises(Malformed, match="payload.author_username: missing"):
        parse(json.dumps(event))
    for raw in (b"", b"[1]", b"\xff", None):
        with pytest.raises(Malformed):
            parse(raw)


def test_migration_files_split_into_statements():
    parts = statements("-- a; comment\nCREATE TABLE a (x UInt8) ENGINE = Memory;\n\n"
                       "CREATE VIEW b AS SELECT 1; -- trailing\n")
    assert parts == ["CREATE TABLE a (x UInt8) ENGINE = Memory", "CREATE VIEW b AS SELECT 1"]


@pytest.fixture
def rpc():
    rpc = FakeRpc()
    rpc.answers = {("analytics", "posts_stats"): lambda: {"total_posts": 0},
                   ("analytics", "user_activity"): lambda: {"user_id": 1}}
    return rpc


@pytest.fixture
def gateway_config():
    return dict(CONFIG, SERVICES=["analytics"])


def test_post_stats_is_for_admins_only(client, rpc, access):
    url = "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-31"
    assert client.simulate_get(url).status_code == 401
    assert client.simulate_get(url, headers=auth(4)).status_code == 403
    # The is_admin claim is never trusted: rights come from the access state.
    assert client.simulate_get(url, headers=auth(4, admin=True)).status_code == 403
    assert rpc.calls == []
    grant_admin(access, 4)
    resp = client.simulate_get(url, headers=auth(4))
    assert resp.status_code == 200 and resp.json == {"total_posts": 0}


def test_user_activity_needs_a_user_and_passes_the_caller(client, rpc):
    calls = []
    rpc.answers[("analytics", "user_activity")] = None

    def record(service, method, args, kwargs):
        calls.append(kwargs)
        return {"ok": True}
    rpc.read = lambda service, method, *args, **kwargs: record(service, method, args, kwargs)
    assert client.simulate_get("/api/analytics/user-activity/").status_code == 401
    assert client.simulate_get("/api/analytics/user-activity/?user_id=9",
                               headers=auth(4)).status_code == 200
    assert calls == [{"caller_id": 4, "user_id": "9"}]


def test_errors_of_the_service_map_to_status_codes(client, rpc, access):
    grant_admin(access, 1)
    rpc.answers[("analytics", "posts_stats")] = InvalidPeriod()
    url = "/api/analytics/posts/stats/?start_date=x&end_date=y"
    resp = client.simulate_get(url, headers=auth(1, admin=True))
    assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_period"
    rpc.answers[("analytics", "posts_stats")] = ServiceUnavailable()
    assert client.simulate_get(url, headers=auth(1, admin=True)).status_code == 503


class StoredRows:
    """A ClickHouse client answering the pipeline's write-time lookups from a dict:
    post_id -> (likes, known, toggled_us) for like_totals, post_id -> stored for
    unique_posts."""

    def __init__(self, stored):
        self.stored = stored

    def execute(self, sql, params, external_tables):
        ids = [row["post_id"] for row in external_tables[0]["data"]]
        found = [post_id for post_id in ids if post_id in self.stored]
        if "post_like_totals" in sql:
            return [(post_id, *self.stored[post_id]) for post_id in found]
        return [(post_id,) for post_id in found]


def like_row(post_id, likes_count, occurred_us):
    row = dict.fromkeys(COLUMNS["likes"])
    row.update(post_id=post_id, likes_count=likes_count, occurred_us=occurred_us)
    return tuple(row[c] for c in COLUMNS["likes"])


def test_like_totals_add_the_change_to_the_latest_toggle_once():
    from analytics_pipeline.like_totals import like_total_rows

    batch = [like_row(1, 3, 100), like_row(1, 5, 300), like_row(1, 4, 200),  # latest: 5
             like_row(2, 1, 100),                                             # never created
             like_row(3, 2, 100),                                             # late copy
             like_row(4, -1, 500)]                                            # clamped to 0
    stored = {1: (2, 1, 50), 3: (7, 1, 900), 4: (3, 1, 400)}
    assert like_total_rows(StoredRows(stored), batch) == [(1, 3, 0), (2, 1, 1), (4, -3, 0)]
    # The same batch again once its rows landed: nothing more.
    stored.update({1: (5, 1, 300), 2: (1, 1, 100), 4: (0, 1, 500)})
    assert like_total_rows(StoredRows(stored), batch) == []
    # Landed in post_like_totals but not yet in likes/post_likes (a failure in between).
    stored.update({1: (5, 1, 50)})
    assert like_total_rows(StoredRows(stored), batch) == []


def test_a_deleted_post_goes_back_to_nothing_once():
    from analytics_pipeline.like_totals import like_total_rows

    stored = {7: (4, 1, 100)}
    assert like_total_rows(StoredRows(stored), [like_row(7, 5, 200)], [7]) == [(7, -4, -1)]
    assert like_total_rows(StoredRows({7: (0, 0, 200)}), [], [7]) == []


def test_posts_and_deletions_already_stored_are_dropped():
    from analytics_pipeline.unique_posts import unstored_deletions, unstored_posts

    def rows(table, *ids):
        return [tuple({"post_id": i, "day": date(2026, 1, 1)}.get(c) for c in COLUMNS[table])
                for i in ids]
    posts = rows("posts", 1, 2, 2, 3)
    assert [r[COLUMNS["posts"].index("post_id")] for r in
            unstored_posts(StoredRows({3: True}), posts)] == [1, 2]
    assert unstored_posts(StoredRows({}), []) == []
    deletions = rows("post_deletions", 5, 5, 6)
    assert [r[COLUMNS["post_deletions"].index("post_id")] for r in
            unstored_deletions(StoredRows({6: True}), deletions)] == [5]

-- Moderation analytics (contract v2 section 8.3: GET /api/analytics/moderation/). Typed
-- tables of the moderation-events topic, as 0001's: ReplacingMergeTree keyed to event_id,
-- answers deduplicated with uniqExact / GROUP BY report_id, so they are exact before merges.
-- They hold no user id (who reported, who resolved, whose content): the counts need none,
-- and an erasure (0008) has nothing to take out of them; `events` keeps the full payloads.

-- report.created
CREATE TABLE IF NOT EXISTS reports (
    event_id    UUID,
    occurred_at DateTime('UTC'),
    day         Date,
    report_id   UInt64,
    target_type String,
    target_id   UInt64,
    post_id     UInt64,
    reason      String
) ENGINE = ReplacingMergeTree
ORDER BY (report_id, event_id);

-- report.resolved; reported_at: when the report was made (time to resolve)
CREATE TABLE IF NOT EXISTS report_resolutions (
    event_id    UUID,
    occurred_at DateTime('UTC'),
    day         Date,
    report_id   UInt64,
    action      String,
    reported_at DateTime('UTC')
) ENGINE = ReplacingMergeTree
ORDER BY (report_id, event_id);

-- content.removed (a later restore does not take a removal back: it happened)
CREATE TABLE IF NOT EXISTS removals (
    event_id    UUID,
    occurred_at DateTime('UTC'),
    day         Date,
    target_type String,
    target_id   UInt64,
    post_id     UInt64,
    reason      String,
    report_id   Nullable(UInt64)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, target_type, target_id, event_id);

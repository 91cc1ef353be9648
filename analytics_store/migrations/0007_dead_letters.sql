-- Messages the pipeline could not store (analytics-pipeline/analytics_pipeline/consumer.py,
-- docs/events.md "Dead letters"): not JSON, a broken envelope, an unknown type or version,
-- a payload the event catalogue (contracts/events.py) refuses. Written before the batch's
-- offsets are committed. Plain MergeTree, no TTL: runs on 18.16 and current releases. A
-- batch re-read after a failed write may store a letter twice (same topic, partition,
-- offset): read with `LIMIT 1 BY topic, partition, offset`.
CREATE TABLE IF NOT EXISTS dead_letters (
    failed_at   DateTime('UTC'),
    topic       String,       -- with its KAFKA_TOPIC_PREFIX
    partition   UInt32,
    offset      UInt64,
    key         String,       -- the message key and value as received, byte for byte
    value       String,
    kind        String,       -- not_json, bad_envelope, unknown_type, unsupported_version, bad_payload
    reason      String,       -- e.g. "payload.post_id: Expected `int`, got `str`"
    event_type  String        -- the envelope's type when it could be read, else ''
) ENGINE = MergeTree
PARTITION BY toYYYYMM(failed_at)
ORDER BY (topic, partition, offset);

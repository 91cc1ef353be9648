-- Kafka messages this service's consumer could not use (imageboard/events/dead_letters.py,
-- docs/events.md "Dead letters"): not JSON, a broken envelope, an unknown type or version,
-- a payload the event catalogue refuses, or an event its handler rejected. The consumer
-- commits a message's offset only after its row is here. A redelivered message (a crash
-- before the commit) may appear twice: same topic, partition and offset.
CREATE TABLE dead_letters (
    id          BIGSERIAL   PRIMARY KEY,
    consumer    TEXT        NOT NULL,   -- consumer group: KAFKA_TOPIC_PREFIX + service name
    topic       TEXT        NOT NULL,   -- with its KAFKA_TOPIC_PREFIX
    partition   INTEGER     NOT NULL,
    "offset"    BIGINT      NOT NULL,
    message_key BYTEA,                  -- key and value as received, byte for byte
    value       BYTEA,
    kind        TEXT        NOT NULL,   -- not_json, bad_envelope, unknown_type,
                                        -- unsupported_version, bad_payload, rejected
    reason      TEXT        NOT NULL,
    event_type  TEXT,                   -- when the envelope could be read
    event_id    TEXT,
    failed_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_failed_at ON dead_letters (failed_at);

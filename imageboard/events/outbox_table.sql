-- The outbox table of every service that has one (imageboard/events/outbox.py); each
-- service's migrations/0002_outbox.sql is a link to this file, so it is stated once.
CREATE TABLE outbox (
    id           BIGSERIAL PRIMARY KEY,
    event_id     UUID        NOT NULL UNIQUE,
    topic        TEXT        NOT NULL,
    event_key    TEXT        NOT NULL,
    event_type   TEXT        NOT NULL,
    body         TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
-- The relay reads unsent events in id order.
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

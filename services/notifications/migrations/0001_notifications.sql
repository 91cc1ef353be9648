-- Users this service knows of (fed by user.registered / user.logged_in): SYSTEM
-- broadcasts go to all of them.
CREATE TABLE known_users (
    id         BIGINT      PRIMARY KEY,
    username   VARCHAR(32) NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE notifications (
    id              BIGSERIAL   PRIMARY KEY,
    user_id         BIGINT      NOT NULL,
    type            VARCHAR(16) NOT NULL CHECK (type IN ('LIKE', 'COMMENT', 'REPLY', 'SYSTEM')),
    message         TEXT        NOT NULL,
    data            JSONB       NOT NULL DEFAULT '{}',
    read            BOOLEAN     NOT NULL DEFAULT FALSE,
    -- The event (or broadcast) that caused it: one notification per event and recipient.
    source_event_id UUID        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT notifications_once_per_event UNIQUE (source_event_id, user_id)
);
-- A user's list, newest first, and their unread ones.
CREATE INDEX notifications_user_newest ON notifications (user_id, id DESC);
CREATE INDEX notifications_user_unread ON notifications (user_id, id DESC) WHERE NOT read;

-- Every consumed event, recorded in the transaction of its effects: a redelivered event
-- finds its id here and changes nothing.
CREATE TABLE processed_events (
    event_id     UUID        PRIMARY KEY,
    event_type   TEXT        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

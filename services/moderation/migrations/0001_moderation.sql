-- Reports, bans and the modlog (contract v2 sections 5.1-5.3).

-- A report keeps a snapshot of its target as it was at report time (decision 9).
CREATE TABLE reports (
    id                     BIGSERIAL PRIMARY KEY,
    target_type            TEXT        NOT NULL CHECK (target_type IN ('post', 'comment')),
    target_id              BIGINT      NOT NULL,
    post_id                BIGINT      NOT NULL,
    reason                 TEXT        NOT NULL,
    details                TEXT        NOT NULL DEFAULT '',
    reporter_id            BIGINT,            -- null once the reporter's account was erased
    reporter_username      TEXT,
    target_author_id       BIGINT,            -- the snapshot; null once its author was erased
    target_author_username TEXT,
    target_title           TEXT,              -- posts only
    target_content         TEXT        NOT NULL DEFAULT '',
    status                 TEXT        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    resolution_action      TEXT,
    resolution_note        TEXT,
    resolution_ban_days    INTEGER,
    resolved_by_id         BIGINT,
    resolved_by_username   TEXT,
    resolved_at            TIMESTAMPTZ
);
-- One open report per reporter and target (a second one is 409 conflict).
CREATE UNIQUE INDEX reports_one_open ON reports (reporter_id, target_type, target_id)
    WHERE status = 'open';
CREATE INDEX reports_open_target ON reports (target_type, target_id) WHERE status = 'open';
CREATE INDEX reports_status ON reports (status, id);
CREATE INDEX reports_reporter ON reports (reporter_id);
CREATE INDEX reports_target_author ON reports (target_author_id);

-- Every ban; the current one of a user is the row not lifted whose expires_at is ahead.
CREATE TABLE bans (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    reason     TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,                   -- null: permanent
    banned_by  BIGINT,                       -- null once the moderator was erased
    report_id  BIGINT,
    lifted_at  TIMESTAMPTZ,                   -- unbanned, or replaced by a new ban
    lifted_by  BIGINT
);
CREATE INDEX bans_not_lifted ON bans (user_id) WHERE lifted_at IS NULL;

-- The public log of moderators' actions. Entries derived from consumed events carry the
-- event's id: a redelivered event adds nothing (unique).
CREATE TABLE modlog (
    id                 BIGSERIAL PRIMARY KEY,
    action             TEXT        NOT NULL,
    target_type        TEXT        NOT NULL,
    target_id          BIGINT      NOT NULL,
    reason             TEXT        NOT NULL DEFAULT '',
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at         TIMESTAMPTZ,
    moderator_id       BIGINT,
    moderator_username TEXT,
    source_event_id    UUID UNIQUE
);
CREATE INDEX modlog_action ON modlog (action, id);

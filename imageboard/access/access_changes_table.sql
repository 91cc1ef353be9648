-- The access log of every source service (imageboard/access/log.py); each source's
-- migrations link to this file, so it is stated once.
-- seq order is commit order: writers take an advisory lock before nextval (log.py).
CREATE TABLE access_changes (
    seq        BIGSERIAL PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    kind       TEXT        NOT NULL,
    payload    JSONB       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX access_changes_created_at ON access_changes (created_at);

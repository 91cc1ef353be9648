-- Ids of erased accounts (contract v2 section 6.3): an event that names one (a replay of the
-- topics, an event produced before the erasure and consumed after) makes no notification
-- and no known_users row. Ids only: no name, no address. Never reused (decision 22).
CREATE TABLE erased_users (
    user_id   BIGINT      PRIMARY KEY,
    erased_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX notifications_post ON notifications ((data ->> 'post_id')) WHERE data ? 'post_id';
CREATE INDEX notifications_actor ON notifications ((data ->> 'actor_id')) WHERE data ? 'actor_id';

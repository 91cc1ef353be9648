-- One row per action a user took (post, comment, like, unlike), ordered by user and day so
-- one user's activity is read from a few granules whatever the table size. Filled by
-- materialized views as the typed tables receive rows; deduplicated like them (event_id).
CREATE TABLE IF NOT EXISTS user_actions (
    user_id     UInt64,
    day         Date,
    kind        String,
    post_id     UInt64,
    occurred_at DateTime('UTC'),
    event_id    UUID
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (user_id, day, kind, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS user_actions_from_posts TO user_actions AS
SELECT author_id AS user_id, day, 'post' AS kind, post_id, occurred_at, event_id
FROM posts;

CREATE MATERIALIZED VIEW IF NOT EXISTS user_actions_from_comments TO user_actions AS
SELECT author_id AS user_id, day, 'comment' AS kind, post_id, occurred_at, event_id
FROM comments;

CREATE MATERIALIZED VIEW IF NOT EXISTS user_actions_from_likes TO user_actions AS
SELECT user_id, day, if(delta = 1, 'like', 'unlike') AS kind, post_id, occurred_at, event_id
FROM likes;

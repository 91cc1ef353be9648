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

-- History: the actions stored before this migration (the views above see only new rows).
-- Rows the pipeline writes between a view's creation and these statements are copied
-- twice, and so is everything if the file is re-run after failing half-way: copies of an
-- event_id, which every query of user_actions counts once.
INSERT INTO user_actions (user_id, day, kind, post_id, occurred_at, event_id)
SELECT author_id, day, 'post', post_id, occurred_at, event_id FROM posts;

INSERT INTO user_actions (user_id, day, kind, post_id, occurred_at, event_id)
SELECT author_id, day, 'comment', post_id, occurred_at, event_id FROM comments;

INSERT INTO user_actions (user_id, day, kind, post_id, occurred_at, event_id)
SELECT user_id, day, if(delta = 1, 'like', 'unlike'), post_id, occurred_at, event_id FROM likes;

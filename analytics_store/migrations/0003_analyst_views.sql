-- Views for the questions analysts ask most. They count events exactly even before
-- background merges remove re-delivered copies (uniqExact over event_id / the aggregate id).
-- Filter them from outside: SELECT * FROM daily_posts WHERE day >= today() - 7.

-- Posts created per day, and how many of those have since been deleted.
CREATE VIEW IF NOT EXISTS daily_posts AS
SELECT
    day,
    uniqExact(post_id) AS posts_created,
    uniqExactIf(post_id, post_id IN (SELECT post_id FROM post_deletions)) AS since_deleted
FROM posts
GROUP BY day;

-- Likes and unlikes given per day (events, whatever became of the post later).
CREATE VIEW IF NOT EXISTS daily_likes AS
SELECT
    day,
    uniqExactIf(event_id, delta = 1) AS likes,
    uniqExactIf(event_id, delta = -1) AS unlikes,
    toInt64(uniqExactIf(event_id, delta = 1)) - toInt64(uniqExactIf(event_id, delta = -1)) AS net_likes
FROM likes
GROUP BY day;

-- Comments written per day, top-level and replies.
CREATE VIEW IF NOT EXISTS daily_comments AS
SELECT
    day,
    uniqExact(event_id) AS comments,
    uniqExactIf(event_id, parent_id IS NOT NULL) AS replies
FROM comments
GROUP BY day;

-- Per user and day: what they did (events; deleted posts still count here).
CREATE VIEW IF NOT EXISTS user_daily_activity AS
SELECT
    user_id,
    day,
    uniqExactIf(event_id, kind = 'post') AS posts,
    uniqExactIf(event_id, kind = 'comment') AS comments,
    uniqExactIf(event_id, kind = 'like') AS likes,
    uniqExactIf(event_id, kind = 'unlike') AS unlikes
FROM user_actions
GROUP BY user_id, day;

-- Every post with its current state: deleted or not, and its likes now (likes minus
-- unlikes: a like toggle alternates, so the difference is the number of standing likes).
CREATE VIEW IF NOT EXISTS post_summary AS
SELECT
    post_id, author_id, author_username, title, created_at, day,
    post_id IN (SELECT post_id FROM post_deletions) AS deleted,
    likes
FROM
(
    SELECT post_id, any(author_id) AS author_id, any(author_username) AS author_username,
           any(title) AS title, min(occurred_at) AS created_at, min(day) AS day
    FROM posts
    GROUP BY post_id
) AS post
ANY LEFT JOIN
(
    SELECT post_id,
           toInt64(uniqExactIf(event_id, delta = 1)) - toInt64(uniqExactIf(event_id, delta = -1)) AS likes
    FROM likes
    GROUP BY post_id
) AS post_likes_now USING post_id;

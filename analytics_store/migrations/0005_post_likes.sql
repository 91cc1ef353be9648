-- Standing likes per post without counting like events at query time.
--
-- Every post.liked / post.unliked carries likes_count, the post's likes right after that
-- toggle. The posts service toggles under the post's row lock and takes occurred_at inside
-- that transaction, so per post the toggles' times increase in commit order and the likes
-- of a post now = likes_count of its latest toggle. argMax(likes_count, occurred_us) is
-- duplicate-proof: a copy of an event (a batch written twice, a re-sent event) has the same
-- time and count and changes nothing, before merges as after. Seconds are not enough (toggles
-- of one post often share a second), hence occurred_us, microseconds since the epoch.

-- Written by the pipeline from the envelope's occurred_at; rows stored before this column
-- existed read it as their whole second (post_likes is backfilled from events.body below).
ALTER TABLE likes ADD COLUMN occurred_us UInt64 DEFAULT toUInt64(occurred_at) * 1000000;

-- One row per post once merged (the latest toggle wins: ReplacingMergeTree's version
-- column); until then a few rows per post, which the query folds with argMax.
CREATE TABLE IF NOT EXISTS post_likes (
    post_id     UInt64,
    likes_count Int64,      -- the post's likes after its latest toggle
    toggled_us  UInt64      -- when that toggle happened (microseconds since the epoch)
) ENGINE = ReplacingMergeTree(toggled_us)
ORDER BY post_id;

-- Each insert into likes (one pipeline batch) adds one row per post it touched.
CREATE MATERIALIZED VIEW IF NOT EXISTS post_likes_from_likes TO post_likes AS
SELECT post_id, argMax(likes_count, occurred_us) AS likes_count, max(occurred_us) AS toggled_us
FROM likes
GROUP BY post_id;

-- History: toggles stored before this migration, timed to the microsecond from the message
-- as received (events.body), plus the likes rows themselves (occurred_us: whole seconds for
-- rows stored before it existed) for any event whose body is empty (databases older than
-- 0004). A precise time is never earlier than its own whole second, so a whole-second row
-- cannot outrank a precise one. Re-running this (a half-applied migration) or overlapping it
-- with the pipeline only adds copies: argMax ignores them.
INSERT INTO post_likes (post_id, likes_count, toggled_us)
SELECT post_id, argMax(likes_count, us), max(us)
FROM
(
    SELECT post_id, likes_count, occurred_us AS us FROM likes
    UNION ALL
    SELECT toUInt64(extract(body, '"post_id": *([0-9]+)')) AS post_id,
           toInt64(extract(body, '"likes_count": *(-?[0-9]+)')) AS likes_count,
           toUInt64(toUInt32(parseDateTimeBestEffort(ts))) * 1000000
             + toUInt64OrZero(frac) * intExp10(6 - length(frac)) AS us
    FROM
    (
        SELECT body, extract(body, '"occurred_at": *"([^"]*)"') AS ts,
               extract(ts, '[.]([0-9]{1,6})') AS frac
        FROM events
        WHERE type IN ('post.liked', 'post.unliked') AND body != ''
    )
)
GROUP BY post_id;

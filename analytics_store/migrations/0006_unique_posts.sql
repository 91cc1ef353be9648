-- posts/stats over a long period without deduplicating at query time
-- (docs/analytics.md, "How posts/stats asks"). Apply it before the pipeline of this version
-- starts and with no older pipeline running (`imageboard up` migrates first): the tables
-- below are kept by the pipeline's own checks, which an older pipeline does not make.

-- 1. `posts` and `post_deletions` hold one row per post. The pipeline now checks each
--    batch's post.created and post.deleted against their table and never writes a post
--    twice (unique_posts.py); the copies stored before that (a batch written twice, a
--    re-sent event) go now: OPTIMIZE FINAL merges every partition down to one row per
--    sorting key, as background merges would some day.
OPTIMIZE TABLE posts FINAL;
OPTIMIZE TABLE post_deletions FINAL;

-- OPTIMIZE does nothing, silently, when a background merge holds some of the parts: then
-- this fails, the migration is not recorded, and the next `imageboard migrate` runs the
-- file again. (18.16's throwIf takes no message: "Value passed to 'throwIf' function is
-- non zero" here means copies are left.)
SELECT throwIf(count() != uniqExact(day, post_id, event_id)) FROM posts;
SELECT throwIf(count() != uniqExact(post_id, event_id)) FROM post_deletions;

-- 2. Per live post, its standing likes as a sum: added up at query time without knowing
--    which row is a post's latest toggle (FINAL over post_likes: ~100 ms a million rows on
--    one core) and without a list of deletions. The pipeline (like_totals.py) adds, per
--    batch and post, the change of the post's standing likes: greatest(likes_count, 0) of
--    the batch's latest toggle minus the sum stored, and only when that toggle is newer
--    than every toggle of the post in post_likes; a post.deleted takes the post's sums back
--    to zero. A batch written twice or a late copy of an event therefore adds nothing (one
--    writer per post: post events are keyed by post_id). The batch's rows here are written
--    before its likes rows, so a retry after a failure in between finds the sum changed.
--    `known` counts the post once: 1 from its post.created (the view below), or 1 from the
--    pipeline for a like of a post whose post.created is not stored. So over a range of ids
--    sum(known) = the live posts there, plus one per post liked before (or without) its
--    creation: posts/stats compares it with its count of posts to know that no such post
--    is mixed in. Merges add up the rows of a post (SummingMergeTree); no query needs them
--    merged.
CREATE TABLE IF NOT EXISTS post_like_totals (
    post_id UInt64,
    likes   Int32,   -- change of the post's standing likes
    known   Int8     -- +1 for the post's first appearance, -1 for its deletion
) ENGINE = SummingMergeTree((likes, known))
ORDER BY post_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS post_like_totals_from_posts TO post_like_totals AS
SELECT post_id, toInt32(0) AS likes, toInt8(1) AS known
FROM posts;

-- History: what the table should hold per post (the latest toggle's likes from post_likes,
-- known once for every post seen; nothing for a deleted post) minus what it holds. Re-running
-- it (a half-applied migration) adds nothing; a post written by the view between the two
-- statements is not counted twice. Two runs at the very same time could both add: run one
-- migration at a time.
INSERT INTO post_like_totals (post_id, likes, known)
SELECT post_id,
       if(deleted, 0, target_likes) - stored_likes,
       if(deleted, 0, 1) - stored_known
FROM
(
    SELECT post_id, greatest(argMax(likes_count, toggled_us), 0) AS target_likes,
           post_id IN (SELECT post_id FROM post_deletions) AS deleted
    FROM
    (
        SELECT post_id, likes_count, toggled_us FROM post_likes
        UNION ALL
        SELECT post_id, toInt64(0) AS likes_count, toUInt64(0) AS toggled_us FROM posts
    )
    GROUP BY post_id
) AS target
ANY LEFT JOIN
(
    SELECT post_id, sum(likes) AS stored_likes, sum(known) AS stored_known
    FROM post_like_totals
    GROUP BY post_id
) AS stored USING post_id
WHERE if(deleted, 0, target_likes) != stored_likes OR if(deleted, 0, 1) != stored_known;

-- 3. The range of post ids created each day, so that the few posts of other days whose ids
--    fall inside a period's id range are found without reading every earlier day of `posts`
--    (ordered by day, post_id, its index cannot bound post_id across days). A few hundred
--    rows a year; copies change neither a minimum nor a maximum, so re-running the history
--    below is harmless.
CREATE TABLE IF NOT EXISTS post_day_ids (
    day    Date,
    min_id AggregateFunction(min, UInt64),
    max_id AggregateFunction(max, UInt64)
) ENGINE = AggregatingMergeTree
ORDER BY day;  -- not partitioned: a few parts to open, read whole by every posts/stats

CREATE MATERIALIZED VIEW IF NOT EXISTS post_day_ids_from_posts TO post_day_ids AS
SELECT day, minState(post_id) AS min_id, maxState(post_id) AS max_id
FROM posts
GROUP BY day;

INSERT INTO post_day_ids
SELECT day, minState(post_id), maxState(post_id) FROM posts GROUP BY day;

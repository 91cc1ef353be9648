-- comment.deleted (contract v2 section 8.3: a deleted comment stops counting in the existing
-- analytics, as a deleted post does). Ordered by the comment's author: user-activity leaves
-- out that author's deleted comments with a lookup of a few granules. Deduplicated like
-- the other tables (event_id); erased with them (author_id, deleted_by are user ids).
CREATE TABLE IF NOT EXISTS comment_deletions (
    event_id    UUID,
    occurred_at DateTime('UTC'),
    day         Date,
    comment_id  UInt64,
    post_id     UInt64,
    author_id   UInt64,
    deleted_by  UInt64,
    placeholder UInt8
) ENGINE = ReplacingMergeTree
ORDER BY (author_id, comment_id, event_id);

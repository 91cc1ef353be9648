-- Typed event tables fed by the analytics pipeline. Runs on ClickHouse 18.16 (Debian) and on
-- current releases: PARTITION BY / ORDER BY syntax, no TTL, no LowCardinality, no DateTime64.
--
-- Every table is a ReplacingMergeTree whose sorting key ends in event_id, and every other
-- key column is a pure function of the event. A re-delivered event therefore has the same
-- key as its first copy and background merges drop it; until they do, queries deduplicate
-- with uniqExact(event_id) / GROUP BY event_id, so answers are exact before merges too.
-- `day` is the UTC date of occurred_at, computed by the pipeline (the server's time zone
-- must not decide which day an event belongs to).

-- Every accepted event, whatever its type: the audit log analysts fall back to.
CREATE TABLE IF NOT EXISTS events (
    event_id    UUID,
    type        String,
    version     UInt16,
    occurred_at DateTime('UTC'),
    day         Date,
    actor_id    Nullable(UInt64),
    key         String,
    body        String,       -- the message as received (envelope and payload, JSON)
    topic       String,
    partition   UInt32,
    offset      UInt64,
    ingested_at DateTime('UTC') DEFAULT now()
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (type, day, event_id);

-- post.created
CREATE TABLE IF NOT EXISTS posts (
    event_id        UUID,
    occurred_at     DateTime('UTC'),
    day             Date,
    post_id         UInt64,
    author_id       UInt64,
    author_username String,
    title           String,
    has_image       UInt8
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, post_id, event_id);

-- post.deleted (small: looked up by post_id)
CREATE TABLE IF NOT EXISTS post_deletions (
    event_id    UUID,
    occurred_at DateTime('UTC'),
    day         Date,
    post_id     UInt64,
    author_id   UInt64,
    title       String,
    deleted_by  UInt64
) ENGINE = ReplacingMergeTree
ORDER BY (post_id, event_id);

-- post.liked (delta = 1) and post.unliked (delta = -1). Ordered by post so the likes of a
-- range of posts are read without scanning the table.
CREATE TABLE IF NOT EXISTS likes (
    event_id       UUID,
    occurred_at    DateTime('UTC'),
    day            Date,
    delta          Int8,
    post_id        UInt64,
    post_author_id UInt64,
    post_title     String,
    user_id        UInt64,
    username       String,
    likes_count    Int64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (post_id, user_id, event_id);

-- comment.created
CREATE TABLE IF NOT EXISTS comments (
    event_id         UUID,
    occurred_at      DateTime('UTC'),
    day              Date,
    comment_id       UInt64,
    post_id          UInt64,
    post_author_id   UInt64,
    post_title       String,
    parent_id        Nullable(UInt64),
    parent_author_id Nullable(UInt64),
    author_id        UInt64,
    author_username  String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (post_id, comment_id, event_id);

-- user.registered
CREATE TABLE IF NOT EXISTS users (
    event_id    UUID,
    occurred_at DateTime('UTC'),
    day         Date,
    user_id     UInt64,
    username    String
) ENGINE = ReplacingMergeTree
ORDER BY (user_id, event_id);

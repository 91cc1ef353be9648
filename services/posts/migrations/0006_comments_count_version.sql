-- comments_count is set from the comments service's live count (deletions make it go down,
-- so the maximum of counts no longer works); each count carries a number from the comments
-- database's sequence, taken under a per-post lock, and only a newer one is applied.
ALTER TABLE posts ADD COLUMN comments_count_version BIGINT NOT NULL DEFAULT 0;

-- Contract v2 section 4.2: a deleted comment that has replies stays as a placeholder, its
-- author and content erased (services/comments/placeholders.py).
ALTER TABLE comments ALTER COLUMN author_id DROP NOT NULL;
ALTER TABLE comments ALTER COLUMN author_username DROP NOT NULL;
ALTER TABLE comments ADD COLUMN is_deleted BOOLEAN NOT NULL DEFAULT FALSE;
-- Orders the comments_count updates sent to the posts service (dependencies.py): a count
-- taken later carries a larger number, so a late delivery of an older count is ignored.
CREATE SEQUENCE comments_count_version;

-- Contract v2 sections 3.1, 4.1-4.3 (services/comments/placeholders.py):
-- `edited` once the author changed the content; `removed` by an admin (the row keeps author
-- and content, so a restore brings it back unchanged); `listed`: whether the comment is in
-- its post's list, kept by every write: a live comment is listed, a deleted or removed one
-- only while at least one of its replies is listed (a placeholder).
ALTER TABLE comments ADD COLUMN edited BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE comments ADD COLUMN removed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE comments ADD COLUMN removed_reason VARCHAR(500);
ALTER TABLE comments ADD COLUMN removed_at TIMESTAMPTZ;
ALTER TABLE comments ADD COLUMN removed_by BIGINT;
ALTER TABLE comments ADD COLUMN listed BOOLEAN NOT NULL DEFAULT TRUE;
-- Before this migration a deleted comment stayed only while it had replies, all of them
-- listed (nothing could be removed): every existing row is listed.

-- A post's list, X-Total-Count and cursor pages: one range of this index.
CREATE INDEX comments_post_listed ON comments (post_id, created_at, id) WHERE listed;

-- What the comments service knows of each post it has comments for: author and title for
-- comment.created (kept current by the posts service on an edit: update_post_target), and
-- whether an admin removed it (a removed post's comments are 404 to everyone else).
CREATE TABLE post_targets (
    post_id   BIGINT PRIMARY KEY,
    author_id BIGINT       NOT NULL,
    title     VARCHAR(255) NOT NULL,
    removed   BOOLEAN      NOT NULL DEFAULT FALSE
);

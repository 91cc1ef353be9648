-- Contract v2 section 3.1: `author` shows the author's avatar. Comments keep a copy of its file
-- name (as of author_username), set from `user.updated` (imageboard/avatars.py).
ALTER TABLE comments ADD COLUMN author_avatar VARCHAR(100);
-- The latest avatar of each author seen in user.updated, copied into their new comments; an
-- erased user's row keeps only `erased` (no avatar), so a replayed user.updated of theirs
-- changes nothing (contract v2 section 6.3).
CREATE TABLE author_avatars (
    user_id BIGINT PRIMARY KEY,
    avatar  VARCHAR(100),
    erased  BOOLEAN NOT NULL DEFAULT FALSE
);

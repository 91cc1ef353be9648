-- Contract v2 sections 3.1, 4.1 and 4.3: an edit sets `edited` (updated_at moves only with
-- edits); an admin's removal hides the post from everyone else while keeping the row, so a
-- restore brings it back unchanged (services/posts/lifecycle.py).
ALTER TABLE posts ADD COLUMN edited BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE posts ADD COLUMN removed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE posts ADD COLUMN removed_reason VARCHAR(500);
ALTER TABLE posts ADD COLUMN removed_at TIMESTAMPTZ;
ALTER TABLE posts ADD COLUMN removed_by BIGINT;

-- The feed's `count` leaves out removed posts (section 3.1): posts_total counts the posts
-- that are not removed; a removal or restore moves it by one.
CREATE OR REPLACE FUNCTION posts_total_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts_total SET total = total + (SELECT count(*) FROM inserted WHERE NOT removed);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION posts_total_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts_total SET total = total - (SELECT count(*) FROM deleted WHERE NOT removed);
    RETURN NULL;
END $$;

CREATE FUNCTION posts_total_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts_total SET total = total + CASE WHEN NEW.removed THEN -1 ELSE 1 END;
    RETURN NULL;
END $$;
CREATE TRIGGER posts_total_after_removed AFTER UPDATE OF removed ON posts
    FOR EACH ROW WHEN (OLD.removed IS DISTINCT FROM NEW.removed)
    EXECUTE FUNCTION posts_total_removed();

-- Profile posts_count leaves out removed posts.
CREATE INDEX posts_removed ON posts (id) WHERE removed;

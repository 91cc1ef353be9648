CREATE TABLE posts (
    id              BIGSERIAL PRIMARY KEY,
    title           VARCHAR(255) NOT NULL,
    content         TEXT         NOT NULL,
    -- File name under MEDIA_ROOT (content hash + extension); NULL without an image.
    image           VARCHAR(100),
    author_id       BIGINT       NOT NULL,
    -- Copied from the token at creation: usernames never change, so lists need no
    -- call to the users service per row.
    author_username VARCHAR(32)  NOT NULL,
    likes_count     INTEGER      NOT NULL DEFAULT 0 CHECK (likes_count >= 0),
    -- Kept by the comments service through sync_comments_count (see services/posts/dependencies.py).
    comments_count  INTEGER      NOT NULL DEFAULT 0 CHECK (comments_count >= 0),
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ  NOT NULL DEFAULT now()
);
-- One index per feed ordering (contract decision 3: ties break newest first), so every
-- page is an index scan that stops after OFFSET + LIMIT entries instead of a sort.
CREATE INDEX posts_created_desc ON posts (created_at DESC, id DESC);
CREATE INDEX posts_created_asc ON posts (created_at ASC, id DESC);
CREATE INDEX posts_likes_asc ON posts (likes_count ASC, created_at DESC, id DESC);
CREATE INDEX posts_likes_desc ON posts (likes_count DESC, created_at DESC, id DESC);
CREATE INDEX posts_author ON posts (author_id);
CREATE INDEX posts_image ON posts (image) WHERE image IS NOT NULL;

CREATE TABLE likes (
    post_id    BIGINT      NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL,
    username   VARCHAR(32) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, user_id)
);

-- The feed's `count`: an exact total without COUNT(*) over the whole table (which reads
-- every row: ~10 ms at 100k posts). Statement-level triggers keep it, so a bulk INSERT
-- updates it once; the single row serialises concurrent post creations, which are rare
-- next to reads.
CREATE TABLE posts_total (
    id    BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    total BIGINT  NOT NULL
);
INSERT INTO posts_total (total) VALUES (0);

CREATE FUNCTION posts_total_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts_total SET total = total + (SELECT count(*) FROM inserted);
    RETURN NULL;
END $$;

CREATE FUNCTION posts_total_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts_total SET total = total - (SELECT count(*) FROM deleted);
    RETURN NULL;
END $$;

CREATE TRIGGER posts_total_after_insert AFTER INSERT ON posts
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION posts_total_insert();
CREATE TRIGGER posts_total_after_delete AFTER DELETE ON posts
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION posts_total_delete();
-- TRUNCATE skips row triggers; keep the total honest for test and operator resets.
CREATE FUNCTION posts_total_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts_total SET total = 0;
    RETURN NULL;
END $$;
CREATE TRIGGER posts_total_after_truncate AFTER TRUNCATE ON posts
    FOR EACH STATEMENT EXECUTE FUNCTION posts_total_truncate();

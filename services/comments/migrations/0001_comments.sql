CREATE TABLE comments (
    id              BIGSERIAL PRIMARY KEY,
    -- The post lives in the posts service's database: no foreign key can cross that
    -- line. The posts service is asked over RPC whether it exists (dependencies.py).
    post_id         BIGINT       NOT NULL,
    parent_id       BIGINT       REFERENCES comments (id) ON DELETE CASCADE,
    author_id       BIGINT       NOT NULL,
    -- Copied from the token at creation (usernames never change): no users RPC per row.
    author_username VARCHAR(32)  NOT NULL,
    content         VARCHAR(1000) NOT NULL,
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ  NOT NULL DEFAULT now()
);
-- A post's thread, oldest first, and its X-Total-Count: one index-only range.
CREATE INDEX comments_post_thread ON comments (post_id, created_at, id);
CREATE INDEX comments_parent ON comments (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX comments_author ON comments (author_id);

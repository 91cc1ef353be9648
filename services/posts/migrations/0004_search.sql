-- Full-text search of posts (contract v2 section 3.5): title weight A, content weight B,
-- in the text search configuration stored here. The posts service keeps this row equal
-- to the SEARCH_CONFIG setting (services/posts/search.py, at start: it re-computes the
-- vectors when the setting changed), so stored vectors and queries always agree.
CREATE TABLE posts_search_config (
    id     BOOLEAN  PRIMARY KEY DEFAULT TRUE CHECK (id),
    config regconfig NOT NULL
);
INSERT INTO posts_search_config (config) VALUES ('simple');

CREATE FUNCTION posts_search_vector(cfg regconfig, title text, content text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector(cfg, coalesce(title, '')), 'A')
        || setweight(to_tsvector(cfg, coalesce(content, '')), 'B')
$$;

-- A trigger, not a generated column: a generated column's expression must be constant,
-- and the configuration is a setting. Only a change of title or content recomputes it,
-- so likes and comment counts do not pay for it; an edit is searchable at its commit.
CREATE FUNCTION posts_search_vector_set() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := posts_search_vector((SELECT config FROM posts_search_config),
                                             NEW.title, NEW.content);
    RETURN NEW;
END $$;

ALTER TABLE posts ADD COLUMN search_vector tsvector;
UPDATE posts SET search_vector = posts_search_vector('simple', title, content);
ALTER TABLE posts ALTER COLUMN search_vector SET NOT NULL;

CREATE TRIGGER posts_search_vector_before_write BEFORE INSERT OR UPDATE OF title, content ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_search_vector_set();

CREATE INDEX posts_search ON posts USING GIN (search_vector);

-- A user's likes (the data export, section 6.4 of contract v2): the primary key leads
-- with post_id, so without this index every export would read the whole likes table.
CREATE INDEX IF NOT EXISTS likes_user ON likes (user_id, created_at);

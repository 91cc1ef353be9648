-- v2 §6.2: a bio ("" by default) and the avatar's file name under MEDIA_ROOT (null: none).
ALTER TABLE users
    ADD COLUMN bio    VARCHAR(500) NOT NULL DEFAULT '',
    ADD COLUMN avatar VARCHAR(64);

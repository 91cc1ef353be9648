-- Databases created by the first version of 0001 stored the payload (re-serialised) in
-- `payload`; the pipeline now keeps the whole message as received in `body`. Where `body`
-- exists already this is a no-op (the runner treats "column already exists" as applied:
-- 18.16 has no ADD COLUMN IF NOT EXISTS).
ALTER TABLE events ADD COLUMN body String AFTER key;

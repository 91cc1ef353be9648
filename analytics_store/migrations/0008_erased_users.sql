-- Erased accounts (contract v2 section 6.3, analytics-pipeline/analytics_pipeline/erasure.py):
-- the pipeline stores no row of an event that names one of these ids (a replay of the topics,
-- an event produced before the erasure and consumed after), and records here how far each
-- erasure got, so a retried batch does not take back the same likes twice. Ids only.
CREATE TABLE IF NOT EXISTS erased_users (
    user_id   UInt64,
    step      String,          -- 'started', 'likes_withdrawn', 'done'
    erased_at DateTime('UTC') DEFAULT now()
) ENGINE = ReplacingMergeTree
ORDER BY (user_id, step);

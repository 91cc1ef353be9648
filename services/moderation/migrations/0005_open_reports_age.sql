-- The queue gauges (ModerationService.export_queue_metrics, every few seconds): count(*) and
-- min(created_at) of the open reports, from this index alone (an index-only scan of the open
-- rows; resolved reports are not in it, so it stays as small as the queue).
CREATE INDEX IF NOT EXISTS reports_open_created ON reports (created_at) WHERE status = 'open';

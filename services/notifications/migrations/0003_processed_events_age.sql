-- processed_events is pruned by age (NotificationsService.prune_processed_events).
CREATE INDEX IF NOT EXISTS processed_events_processed_at ON processed_events (processed_at);

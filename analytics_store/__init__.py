"""The analytics store: the ClickHouse client, schema and migrations, in one place that both
the analytics pipeline (which writes) and the analytics service (which reads) depend on."""

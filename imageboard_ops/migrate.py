"""`imageboard migrate`: every service's store brought to its latest schema. Which store a
service has comes from the service itself (imageboard_ops.components), not from a list."""
from analytics_store.schema import migrate as migrate_clickhouse
from imageboard.migrations import migrate as migrate_postgres
from imageboard_ops.components import component

MIGRATORS = {"postgres": migrate_postgres,
             "clickhouse": lambda config, service: migrate_clickhouse(config)}


def migrate_all(config, services=None):
    """{service: [versions applied now]} for the named services (default: SERVICES)."""
    return {name: MIGRATORS[component(name).store](config, name)
            for name in services or config["SERVICES"]}

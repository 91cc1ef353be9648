"""ClickHouse connections from CLICKHOUSE_URL (clickhouse://user:password@host:port/database)."""
from urllib.parse import urlparse

from clickhouse_driver import Client
from clickhouse_driver import errors as ch_errors

# What "ClickHouse is not reachable" looks like through clickhouse-driver.
UNAVAILABLE_ERRORS = (ch_errors.NetworkError, ch_errors.SocketTimeoutError, EOFError,
                      ConnectionError, OSError)


def database_name(config):
    return urlparse(config["CLICKHOUSE_URL"]).path.lstrip("/") or "default"


def make_client(config, database=None, connect_timeout=3, send_receive_timeout=30,
                sync_request_timeout=5):
    """A client for the configured database (or `database`, e.g. "default" to create it)."""
    url = urlparse(config["CLICKHOUSE_URL"])
    return Client(
        host=url.hostname or "127.0.0.1",
        port=url.port or 9000,
        user=url.username or "default",
        password=url.password or "",
        database=database or database_name(config),
        connect_timeout=connect_timeout,
        send_receive_timeout=send_receive_timeout,
        sync_request_timeout=sync_request_timeout,
        settings={"max_block_size": 65536},
    )

"""imageboard.db.ServicePool against the real PostgreSQL: a connection back from a recent
call is reused without a `SELECT 1` round trip, an idle one is validated, and connections
the server killed are discarded so the pool recovers by itself."""
import psycopg2
import pytest
from peewee import OperationalError

from imageboard import db as db_module
from imageboard.config import database_url
from imageboard.db import make_database


@pytest.fixture
def pool(config, migrated):
    migrated("users")
    database = make_database(database_url(config, "users"), max_connections=2)
    yield database
    database.close_all()


def backend_pid(database):
    with database.connection_context():
        return database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def validations(pool, monkeypatch):
    """Counts the adapter's server-side liveness checks (its `SELECT 1`)."""
    calls = []
    check = pool._adapter.is_connection_closed
    monkeypatch.setattr(pool._adapter, "is_connection_closed",
                        lambda conn: calls.append(1) or check(conn))
    return calls


def terminate(config, pid):
    name, kwargs = db_module.connect_kwargs(database_url(config, "users"))
    admin = psycopg2.connect(dbname=name, **kwargs)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    admin.close()


def test_a_recently_used_connection_is_reused_without_a_round_trip(pool, monkeypatch):
    first = backend_pid(pool)
    checks = validations(pool, monkeypatch)
    assert [backend_pid(pool) for _ in range(5)] == [first] * 5
    assert checks == []


def test_a_connection_idle_past_the_window_is_validated(pool, monkeypatch):
    first = backend_pid(pool)
    checks = validations(pool, monkeypatch)
    monkeypatch.setattr(db_module, "REVALIDATE_AFTER_IDLE", 0.0)
    assert backend_pid(pool) == first
    assert checks == [1]


def test_an_idle_connection_killed_by_the_server_is_replaced_before_use(config, pool, monkeypatch):
    first = backend_pid(pool)
    terminate(config, first)
    monkeypatch.setattr(db_module, "REVALIDATE_AFTER_IDLE", 0.0)
    assert backend_pid(pool) != first  # validated, discarded, a new one opened: no error


def test_a_recent_connection_killed_by_the_server_fails_once_then_the_pool_recovers(config, pool):
    first = backend_pid(pool)
    terminate(config, first)
    with pytest.raises(OperationalError):  # the one call that meets it (503 in a service)
        backend_pid(pool)
    assert backend_pid(pool) not in (first, None)

"""The access feed is generic: a second source (a test-only stand-in for the moderation
service, recording bans in its own database's access log) feeds the same AccessState
beside the real users service; a ban refuses writes until unban or expiry, the users
source's part is untouched, and a snapshot after reconnect keeps the ban."""
import os
import socket
import time
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from peewee import DatabaseProxy

from gateway.rpc import RpcClient
from imageboard import PROJECT_ROOT
from imageboard.access import feed as access_feed
from imageboard.access.feed import AccessFeedSubscriber
from imageboard.access.log import access_log_model, record_access_change
from imageboard.access.state import AccessState
from imageboard.config import database_url
from imageboard.db import connect_kwargs, drop_database, ensure_database
from imageboard.service_kit import Database, rpc
from services.users.service import UsersService

pytestmark = pytest.mark.integration

SOURCE = "accessbans"
database = DatabaseProxy()
BanLog = access_log_model(database)


class BanStore:
    def __init__(self, db, config):
        self.db = db

    def ban(self, user_id, reason, expires_at):
        with self.db.atomic():
            record_access_change(BanLog, {
                "kind": "ban", "user_id": user_id, "reason": reason, "expires_at": expires_at,
                "created_at": datetime.now(timezone.utc).isoformat()})

    def unban(self, user_id):
        with self.db.atomic():
            record_access_change(BanLog, {"kind": "unban", "user_id": user_id})


class BansDatabase(Database):
    def __init__(self):
        super().__init__(database, BanStore, service_name=SOURCE)


class BansService(access_feed.AccessSource):
    name = SOURCE
    bans = BansDatabase()
    access = access_feed.AccessFeed(BanLog)

    @rpc
    def ban(self, user_id, reason, expires_at=None):
        self.bans.ban(user_id, reason, expires_at)

    @rpc
    def unban(self, user_id):
        self.bans.unban(user_id)


@pytest.fixture
def bans_db(config):
    url = database_url(config, SOURCE)
    drop_database(url)
    ensure_database(url)
    name, kwargs = connect_kwargs(url)
    with open(os.path.join(PROJECT_ROOT, "imageboard", "access", "access_changes_table.sql")) as fh:
        ddl = fh.read()
    conn = psycopg2.connect(dbname=name, **kwargs)
    with conn, conn.cursor() as cur:
        cur.execute(ddl)
    conn.close()
    yield
    drop_database(url)


@pytest.fixture
def services(service_config, container_factory, migrated, bans_db):
    migrated("users")
    for cls in (UsersService, BansService):
        container_factory(cls, service_config).start()
    with ServiceRpcProxy("users", service_config, timeout=10) as users, \
            ServiceRpcProxy(SOURCE, service_config, timeout=10) as bans:
        yield users, bans


@pytest.fixture
def state(services, service_config):
    state = AccessState(["users", SOURCE], stale_after=1.0)
    client = RpcClient(service_config)
    subscriber = AccessFeedSubscriber(service_config, state, client).start()
    deadline = time.monotonic() + 10
    while not state.all_fresh():
        assert time.monotonic() < deadline, "both sources heard"
        time.sleep(0.01)
    state.subscriber = subscriber
    yield state
    subscriber.stop()
    client.close()


def until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.01)


def test_bans_from_a_second_source_and_their_expiry(services, state, config, unique):
    from imageboard.tokens import verify_token

    users, bans = services
    name = f"ban_{unique}"
    body = users.register({"username": name, "email": f"{name}@example.com", "password": "password1"})
    claims = verify_token(config["JWT_SECRET"], body["token"])
    assert state.check(claims).ban is None

    bans.ban(body["id"], "spam")
    until(lambda: state.check(claims).ban is not None, 1.0, "the ban")
    assert state.check(claims).ban.reason == "spam" and state.check(claims).ban.expires_at is None
    users.set_admin(name)  # the other source's part, beside it
    until(lambda: state.check(claims).is_admin, 1.0, "admin from users")

    # A reconnect: the snapshot of the bans source keeps the ban.
    snapshots = []
    reset = state.reset
    state.reset = lambda source, changes, seq: (snapshots.append(source), reset(source, changes, seq))
    state.subscriber._connection.connection.transport.sock.shutdown(socket.SHUT_RDWR)
    until(lambda: SOURCE in snapshots and "users" in snapshots, 5.0, "the reconnect's snapshots")
    assert state.check(claims).ban.reason == "spam" and state.check(claims).is_admin

    bans.unban(body["id"])
    until(lambda: state.check(claims).ban is None, 1.0, "the unban")

    expires = (datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat()
    bans.ban(body["id"], "cool down", expires)
    until(lambda: state.check(claims).ban is not None, 1.0, "the timed ban")
    until(lambda: state.check(claims).ban is None, 2.5, "the ban's end at expires_at, no message")

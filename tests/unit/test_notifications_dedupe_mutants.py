"""The notifications consumer's dedupe (services/notifications/dependencies.py: handle_event
claims the event id in processed_events first, in the same transaction as its effects;
prune_processed_events forgets old ids) without PostgreSQL: the models are fakes that keep
the claimed ids, so every branch is checked exactly. Written to kill the mutants mutmut left
alive (`make mutate`, docs/robustness.md "Mutation testing");
tests/integration/test_notifications_service.py runs it on the real database."""
import uuid
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from services.notifications import dependencies
from services.notifications.dependencies import NotificationsStore
from services.notifications.rules import Draft


class FakeDB:
    def __init__(self, rowcounts=()):
        self.transactions, self.open = 0, False
        self.rowcounts, self.statements = list(rowcounts), []

    @contextmanager
    def atomic(self):
        self.transactions += 1
        self.open = True
        try:
            yield
        finally:
            self.open = False

    def execute_sql(self, sql, params):
        self.statements.append((sql, params))
        return SimpleNamespace(rowcount=self.rowcounts.pop(0))


class Claims:
    """ProcessedEvent as handle_event uses it: INSERT ... ON CONFLICT DO NOTHING RETURNING."""
    event_id = "ProcessedEvent.event_id"

    def __init__(self, db):
        self.db, self.seen, self.inserts = db, set(), []

    def insert(self, **row):
        assert self.db.open, "the claim must be in the transaction of the effects"
        self.inserts.append(row)
        claims = self

        class Query:
            ignore = returned = None

            def on_conflict_ignore(self):
                self.ignore = True
                return self

            def returning(self, column):
                self.returned = column
                return self

            def execute(self):
                assert self.ignore and self.returned == Claims.event_id
                if row["event_id"] in claims.seen:
                    return iter([])
                claims.seen.add(row["event_id"])
                return iter([SimpleNamespace(event_id=row["event_id"])])
        return Query()


@pytest.fixture
def store(monkeypatch):
    db = FakeDB()
    store = NotificationsStore(db, {})
    claims = Claims(db)
    monkeypatch.setattr(dependencies, "ProcessedEvent", claims)
    # No erased users here (tests/e2e/test_account_deletion.py covers them).
    monkeypatch.setattr(dependencies.erasure, "names_erased_user", lambda db, event: False)
    store.remembered, store.notified = [], []

    def remember(*user):
        assert db.open
        store.remembered.append(user)

    def notify(*args):
        assert db.open
        store.notified.append(args)
        return 100 + len(store.notified)
    monkeypatch.setattr(store, "_remember", remember)
    monkeypatch.setattr(store, "_notify", notify)
    store.claims, store.db_fake = claims, db
    return store


def event(kind="post.liked", actor_id=7):
    return SimpleNamespace(event_id=uuid.uuid4(), type=kind, actor_id=actor_id)


def rules(monkeypatch, drafts=(), user=None):
    """The rules answer only for a real event (handle_event must hand them the event)."""
    monkeypatch.setattr(dependencies, "notifications_for",
                        lambda e: list(drafts) if e is not None else [])
    monkeypatch.setattr(dependencies, "known_user", lambda e: user if e is not None else None)


DRAFTS = [Draft(1, "LIKE", "bob liked your post", {"post_id": 5, "actor_id": 7}),
          Draft(2, "COMMENT", "bob commented", {"post_id": 5, "comment_id": 9, "actor_id": 7})]


def test_an_event_is_applied_once_and_its_copies_change_nothing(store, monkeypatch):
    rules(monkeypatch, DRAFTS)
    liked = event()
    assert store.handle_event(liked) == [101, 102]
    assert store.notified == [
        (1, "LIKE", "bob liked your post", {"post_id": 5, "actor_id": 7}, liked.event_id, 7),
        (2, "COMMENT", "bob commented", {"post_id": 5, "comment_id": 9, "actor_id": 7},
         liked.event_id, 7)]
    assert store.claims.inserts == [{"event_id": liked.event_id, "event_type": "post.liked"}]
    assert store.db_fake.transactions == 1
    # Redelivered (a crash before the offset commit, a relay replay): claimed already.
    assert store.handle_event(liked) == []
    assert len(store.notified) == 2 and store.db_fake.transactions == 2
    # Another event with the same content is not a copy.
    assert store.handle_event(event()) == [103, 104]


def test_an_event_that_notifies_nobody_and_names_no_user_is_not_even_claimed(store, monkeypatch):
    rules(monkeypatch)
    assert store.handle_event(event("post.created")) == []
    assert store.claims.inserts == [] and store.db_fake.transactions == 0


def test_a_user_event_is_remembered_once_even_without_notifications(store, monkeypatch):
    rules(monkeypatch, user=(4, "dora"))
    logged_in = event("user.logged_in", actor_id=4)
    assert store.handle_event(logged_in) == []
    assert store.remembered == [(4, "dora")] and store.claims.seen == {logged_in.event_id}
    assert store.handle_event(logged_in) == []
    assert store.remembered == [(4, "dora")]


def test_a_registration_remembers_the_user_and_welcomes_them(store, monkeypatch):
    welcome = Draft(4, "SYSTEM", "Welcome to the imageboard, dora!", {"actor_id": None})
    rules(monkeypatch, [welcome], user=(4, "dora"))
    registered = event("user.registered", actor_id=4)
    assert store.handle_event(registered) == [101]
    assert store.remembered == [(4, "dora")]
    assert store.notified == [(4, "SYSTEM", "Welcome to the imageboard, dora!",
                               {"actor_id": None}, registered.event_id, 4)]
    assert store.handle_event(registered) == [] and len(store.notified) == 1


def test_pruning_forgets_ids_older_than_the_retention_in_batches():
    db = FakeDB(rowcounts=[2, 2, 1])
    store = NotificationsStore(db, {"PROCESSED_EVENTS_RETENTION_DAYS": 45})
    assert store.prune_processed_events(batch_size=2) == 5
    sql = ("DELETE FROM processed_events WHERE event_id IN (SELECT event_id FROM "
           "processed_events WHERE processed_at < now() - %s * interval '1 day' LIMIT %s)")
    assert db.statements == [(sql, (45.0, 2))] * 3


def test_pruning_takes_an_explicit_age_and_stops_at_a_short_batch():
    db = FakeDB(rowcounts=[3])
    store = NotificationsStore(db, {"PROCESSED_EVENTS_RETENTION_DAYS": 45})
    assert store.prune_processed_events(older_than_days=60) == 3
    assert db.statements == [(db.statements[0][0], (60.0, 10000))]


def test_the_store_keeps_its_database_and_config():
    db, config = FakeDB(), {"PROCESSED_EVENTS_RETENTION_DAYS": 45}
    store = NotificationsStore(db, config)
    assert store.db is db and store.config is config

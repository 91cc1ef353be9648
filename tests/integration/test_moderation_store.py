"""The moderation store on a real PostgreSQL database, with the other services faked
(`FakePeers`: the posts and comments services' get/report_target and remove_* RPCs, the
users service's admin_status): the resolution paths that remove and ban, the events it
consumes (content.removed / restored, admins' deletions, user.deleted), idempotency, and
what each change writes to the outbox and the access log."""
import json
import uuid

import pytest

from contracts import events as ev
from contracts.errors import (AlreadyResolved, CannotBanAdmin, Conflict, OwnContent,
                              PostNotFound, ServiceUnavailable, UserNotFound)
from imageboard.config import database_url
from imageboard.db import drop_database, make_database
from imageboard.migrations import migrate
from imageboard.timefmt import utcnow
from services.moderation.dependencies import ModerationStore, active_bans
from services.moderation.models import AccessChange, ModlogEntry, Outbox, Report, database

ALICE, BOB, CAROL, ROOT, OTHER_ADMIN = 2, 3, 4, 1, 5
NAMES = {ALICE: "alice", BOB: "bob", CAROL: "carol", ROOT: "root", OTHER_ADMIN: "boss"}


class FakePeers:
    """services/moderation/peers.Peers without the services: post 10 and comment 20 (on
    post 10) by alice; admins root and boss."""

    def __init__(self):
        self.removed, self.calls = set(), []
        self.fail_removal = None

    def target(self, target_type, target_id):
        items = {("post", 10): {"post_id": 10, "author_id": ALICE, "author_username": "alice",
                                "title": "Sunset", "content": "buy now"},
                 ("comment", 20): {"post_id": 10, "author_id": ALICE, "author_username": "alice",
                                   "title": None, "content": "link farm"},
                 ("post", 11): {"post_id": 11, "author_id": ROOT, "author_username": "root",
                                "title": "Rules", "content": "be nice"}}
        if (target_type, target_id) not in items or (target_type, target_id) in self.removed:
            raise PostNotFound()
        return items[(target_type, target_id)]

    def user(self, user_id):
        if user_id not in NAMES:
            raise UserNotFound()
        return {"id": user_id, "username": NAMES[user_id], "is_admin": user_id in (ROOT, OTHER_ADMIN)}

    def username(self, user_id):
        return NAMES.get(user_id)

    def remove(self, target_type, target_id, reason, moderator_id, report_id=None):
        self.calls.append(("remove", target_type, target_id, reason, moderator_id, report_id))
        if self.fail_removal:
            raise self.fail_removal
        if (target_type, target_id) in self.removed:
            return False
        self.removed.add((target_type, target_id))
        return True


@pytest.fixture
def store(config):
    cfg = dict(config, DB_PREFIX=f"{config['DB_PREFIX']}_modstore_{uuid.uuid4().hex[:6]}")
    migrate(cfg, "moderation")
    db = make_database(database_url(cfg, "moderation"), max_connections=4)
    database.initialize(db)
    yield ModerationStore(db, cfg)
    db.close_all()
    drop_database(database_url(cfg, "moderation"))


@pytest.fixture
def peers():
    return FakePeers()


def user(user_id):
    return {"id": user_id, "username": NAMES[user_id]}


def outbox_types():
    return [row.event_type for row in Outbox.select().order_by(Outbox.id)]


def access_kinds():
    return [row.kind for row in AccessChange.select().order_by(AccessChange.seq)]


def relayed():
    """What the relay does: the outbox rows are published (an erasure waits for that)."""
    Outbox.update(published_at=utcnow()).where(Outbox.published_at.is_null()).execute()


def event_of(payload, key, actor_id):
    return ev.new_event(payload, key=key, actor_id=actor_id)


def test_a_report_is_stored_with_its_snapshot_and_its_event(store, peers):
    made = store.create_report({"target_type": "comment", "target_id": 20, "reason": "spam"},
                               user(BOB), peers)
    assert made["target"] == {"author": {"id": ALICE, "username": "alice"}, "title": None,
                              "content": "link farm"}
    assert (made["post_id"], made["status"], made["resolution"]) == (10, "open", None)
    body = json.loads(Outbox.get().body)
    assert body["type"] == "report.created" and body["key"] == str(made["id"])
    assert body["actor_id"] == BOB and "details" not in body["payload"]
    with pytest.raises(Conflict):
        store.create_report({"target_type": "comment", "target_id": 20, "reason": "abuse"},
                            user(BOB), peers)
    with pytest.raises(OwnContent):
        store.create_report({"target_type": "post", "target_id": 10, "reason": "spam"},
                            user(ALICE), peers)


def test_remove_resolves_every_open_report_on_the_target_alike(store, peers):
    first = store.create_report({"target_type": "post", "target_id": 10, "reason": "spam"},
                                user(BOB), peers)
    second = store.create_report({"target_type": "post", "target_id": 10, "reason": "abuse"},
                                 user(CAROL), peers)
    other = store.create_report({"target_type": "comment", "target_id": 20, "reason": "spam"},
                                user(BOB), peers)
    resolved = store.resolve_report(first["id"], {"action": "remove", "note": "gone"}, user(ROOT), peers)
    assert resolved["resolution"]["action"] == "remove" and resolved["resolution"]["note"] == "gone"
    # The report's reason code is the removal's reason (decision 11), with its id.
    assert peers.calls == [("remove", "post", 10, "spam", ROOT, first["id"])]
    again = Report.get_by_id(second["id"])
    assert (again.status, again.resolution_action, again.resolution_note, again.resolved_by_id) == \
        ("resolved", "remove", "gone", ROOT)
    assert Report.get_by_id(other["id"]).status == "open"
    assert outbox_types().count("report.resolved") == 2
    assert [e.action for e in ModlogEntry.select()] == ["resolve_report", "resolve_report"]
    with pytest.raises(AlreadyResolved):
        store.resolve_report(second["id"], {"action": "dismiss"}, user(ROOT), peers)


def test_remove_goes_on_when_the_target_is_gone_and_nothing_changes_when_removal_fails(store, peers):
    made = store.create_report({"target_type": "post", "target_id": 10, "reason": "spam"},
                               user(BOB), peers)
    peers.fail_removal = ServiceUnavailable()
    with pytest.raises(ServiceUnavailable):
        store.resolve_report(made["id"], {"action": "remove"}, user(ROOT), peers)
    assert Report.get_by_id(made["id"]).status == "open"
    peers.fail_removal = None
    peers.removed.add(("post", 10))  # removed meanwhile: the resolution still goes through
    assert store.resolve_report(made["id"], {"action": "remove"}, user(ROOT), peers)["status"] == "resolved"


def test_ban_resolution_removes_then_bans_the_snapshot_author(store, peers):
    made = store.create_report({"target_type": "comment", "target_id": 20, "reason": "abuse"},
                               user(BOB), peers)
    resolved = store.resolve_report(made["id"], {"action": "ban", "ban_days": 3},
                                    user(ROOT), peers)
    assert resolved["resolution"]["ban_days"] == 3 and peers.removed == {("comment", 20)}
    ban = store.current_ban(ALICE)
    assert ban["reason"] == "abuse"  # the note was empty: the report's reason code
    assert access_kinds() == ["ban"]
    banned = [json.loads(r.body) for r in Outbox.select() if r.event_type == "user.banned"][0]
    assert banned["payload"]["report_id"] == made["id"] and banned["payload"]["banned_by"] == ROOT
    assert banned["key"] == str(ALICE)
    assert {e.action for e in ModlogEntry.select()} == {"resolve_report", "ban_user"}
    assert [c["user_id"] for c in active_bans()] == [ALICE]


def test_ban_resolution_of_an_admin_or_an_erased_author_changes_nothing(store, peers):
    made = store.create_report({"target_type": "post", "target_id": 11, "reason": "spam"},
                               user(BOB), peers)
    with pytest.raises(CannotBanAdmin):
        store.resolve_report(made["id"], {"action": "ban", "ban_days": None}, user(OTHER_ADMIN), peers)
    relayed()
    store.erase_user(ALICE)
    other = store.create_report({"target_type": "post", "target_id": 10, "reason": "spam"},
                                user(CAROL), peers)
    relayed()
    store.erase_user(ALICE)  # the snapshot is blanked
    with pytest.raises(UserNotFound):
        store.resolve_report(other["id"], {"action": "ban", "ban_days": 1}, user(ROOT), peers)
    assert peers.calls == [] and Report.select().where(Report.status == "open").count() == 2
    assert store.get_report(other["id"]).target_content == ""


def test_ban_replace_unban_and_the_access_log(store, peers):
    with pytest.raises(CannotBanAdmin):
        store.ban(OTHER_ADMIN, {"reason": "x", "days": 1}, user(ROOT), peers)
    first = store.ban(BOB, {"reason": "spam", "days": 7}, user(ROOT), peers)
    assert first["expires_at"] is not None and first["created_at"].endswith("+00:00")
    second = store.ban(BOB, {"reason": "again", "days": None}, user(ROOT), peers)
    assert second["expires_at"] is None and store.current_ban(BOB)["reason"] == "again"
    assert len(active_bans()) == 1
    store.unban(BOB, {}, user(ROOT))
    assert store.current_ban(BOB) is None and active_bans() == []
    assert access_kinds() == ["ban", "ban", "unban"]
    assert outbox_types() == ["user.banned", "user.banned", "user.unbanned"]
    log = store.modlog(page=1, limit=10, is_admin=True)["results"]
    assert [e["action"] for e in log] == ["unban_user", "ban_user", "ban_user"]
    assert log[1]["expires_at"] is None and log[2]["expires_at"] == first["expires_at"]
    assert log[0]["moderator"] == {"id": ROOT, "username": "root"}
    assert all("moderator" not in e for e in store.modlog()["results"])


def test_a_direct_removal_resolves_open_reports_once_and_is_logged_once(store, peers):
    made = store.create_report({"target_type": "comment", "target_id": 20, "reason": "spam"},
                               user(BOB), peers)
    event = event_of(ev.ContentRemoved(target_type="comment", target_id=20, post_id=10,
                                       post_title="Sunset", author_id=ALICE, reason="off-topic",
                                       removed_by=ROOT, report_id=None), key=10, actor_id=ROOT)
    assert store.handle_event(event, peers) is True
    assert store.handle_event(event, peers) is False  # redelivered: nothing more
    report = Report.get_by_id(made["id"])
    assert (report.status, report.resolution_action, report.resolution_note,
            report.resolved_by_username) == ("resolved", "remove", "off-topic", "root")
    actions = [e["action"] for e in store.modlog(is_admin=True)["results"]]
    assert sorted(actions) == ["remove_comment", "resolve_report"]
    assert outbox_types() == ["report.created", "report.resolved"]

    restored = event_of(ev.ContentRestored(target_type="comment", target_id=20, post_id=10,
                                           post_title="Sunset", author_id=ALICE, reason="mistake",
                                           restored_by=ROOT), key=10, actor_id=ROOT)
    store.handle_event(restored, peers)
    store.handle_event(restored, peers)
    entries = store.modlog(action="restore_comment", is_admin=True)["results"]
    assert len(entries) == 1 and entries[0]["reason"] == "mistake"


def test_a_removal_by_a_report_leaves_other_reports_to_the_resolution(store, peers):
    made = store.create_report({"target_type": "post", "target_id": 10, "reason": "spam"},
                               user(BOB), peers)
    event = event_of(ev.ContentRemoved(target_type="post", target_id=10, post_id=10,
                                       post_title="Sunset", author_id=ALICE, reason="spam",
                                       removed_by=ROOT, report_id=made["id"]), key=10, actor_id=ROOT)
    store.handle_event(event, peers)
    assert Report.get_by_id(made["id"]).status == "open"
    assert [e["action"] for e in store.modlog()["results"]] == ["remove_post"]


def test_admins_deleting_others_items_are_logged_nobody_else(store, peers):
    def deleted(deleted_by, author=ALICE):
        return event_of(ev.CommentDeleted(comment_id=20, post_id=10, author_id=author,
                                          deleted_by=deleted_by, placeholder=False),
                        key=10, actor_id=deleted_by)
    assert store.handle_event(deleted(ALICE), peers) is False       # the author
    assert store.handle_event(deleted(BOB), peers) is False         # not an admin
    assert store.handle_event(deleted(ROOT, author=ROOT), peers) is False  # an admin's own
    by_admin = deleted(ROOT)
    assert store.handle_event(by_admin, peers) is True
    assert store.handle_event(by_admin, peers) is False
    post = event_of(ev.PostDeleted(post_id=10, author_id=ALICE, title="Sunset", deleted_by=ROOT),
                    key=10, actor_id=ROOT)
    assert store.handle_event(post, peers) is True
    log = store.modlog(is_admin=True)["results"]
    assert [(e["action"], e["target_id"], e["reason"]) for e in log] == [
        ("delete_post", 10, ""), ("delete_comment", 20, "")]


def test_erasure_anonymises_reports_and_drops_bans(store, peers):
    made = store.create_report({"target_type": "post", "target_id": 10, "reason": "other",
                                "details": "see the link"}, user(BOB), peers)
    store.ban(BOB, {"reason": "spam", "days": None}, user(ROOT), peers)
    relayed()
    store.handle_event(event_of(ev.UserDeleted(user_id=BOB), key=BOB, actor_id=BOB), peers)
    report = store.list_reports()["results"][0]
    assert report["id"] == made["id"] and report["reporter"] is None and report["details"] == ""
    assert store.current_ban(BOB) is None and active_bans() == []
    assert access_kinds() == []  # the ban left the access log with the account
    assert [e["action"] for e in store.modlog()["results"]] == ["ban_user"]  # modlog stays
    relayed()
    store.erase_user(ROOT)  # an erased moderator: the id stays, the name goes
    [entry] = store.modlog(is_admin=True)["results"]
    assert entry["moderator"] == {"id": ROOT, "username": ""}


def test_the_data_export_hides_the_moderator(store, peers):
    made = store.create_report({"target_type": "post", "target_id": 10, "reason": "spam"},
                               user(BOB), peers)
    store.resolve_report(made["id"], {"action": "dismiss", "note": "ok"}, user(ROOT), peers)
    exported = store.reports_of_user(BOB)
    assert [r["id"] for r in exported] == [made["id"]]
    assert exported[0]["resolution"]["resolved_by"] is None and exported[0]["resolution"]["note"] == "ok"

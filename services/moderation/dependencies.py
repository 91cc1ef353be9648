"""The moderation service's domain wrapper, handed to each worker by the Database provider.

Reports (contract v2 section 5.1), bans (5.2) and the modlog (5.3). Each change is one
transaction with its events in the outbox and, for bans, its access change in the access
log (imageboard/access: every gateway applies it within 1 s). Calls to other services
(`peers`, services/moderation/peers.py) happen before that transaction: a removal that
fails leaves nothing changed here.
"""
from datetime import timedelta

from peewee import SQL, IntegrityError, fn

from contracts.errors import BadRequest, ValidationFailed
from contracts.events import (CommentDeleted, ContentRemoved, ContentRestored, PostDeleted,
                              ReportCreated, ReportResolved, UserBanned, UserDeleted,
                              UserUnbanned)
from contracts.schemas import MAX_LIMIT, BanCreate, BanLift, ReportCreate, ReportResolve, load
from contracts.schemas.moderation import MODLOG_ACTIONS, REPORT_STATUSES
from imageboard.access.log import record_access_change
from imageboard.erasure import purge_outbox_when_published
from imageboard.events.dead_letters import record_dead_letter
from imageboard.events.outbox import record_event
from imageboard.metrics import set_moderation_queue
from imageboard.pagination import check_page, is_id
from imageboard.service_kit import Database
from imageboard.timefmt import utcnow
from services.moderation.exceptions import (AlreadyResolved, CannotBanAdmin, Conflict,
                                            InvalidAction, InvalidStatus, NotBanned,
                                            OwnContent, ReportNotFound, UserNotFound)
from services.moderation.models import (AccessChange, Ban, ModlogEntry, Outbox, Report,
                                        database)
from services.moderation.schemas import (ban_change, ban_public, modlog_public,
                                         report_public)
REQUIRED = "This field is required."


def _missing(fields):
    return BadRequest("Required fields are missing", code="missing_fields", fields=fields)


def _load(model, payload, required=(), refuse_blank=()):
    """load(), plus fields that must be sent even as null (`required`) and text that must
    not be blank (`refuse_blank`): those are 400 missing_fields, before any 422."""
    extra = {name: REQUIRED for name in required
             if not isinstance(payload, dict) or name not in payload}
    extra.update({name: REQUIRED for name in refuse_blank
                  if isinstance(payload, dict) and not str(payload.get(name) or "").strip()})
    try:
        data = load(model, payload)
    except ValidationFailed:
        if extra:
            raise _missing(extra)
        raise
    except BadRequest as exc:
        if exc.code == "missing_fields" and extra:
            raise _missing(dict(exc.fields or {}, **extra))
        raise
    if extra:
        raise _missing(extra)
    return data


def current_ban_query(user_id, now):
    return (Ban.select().where((Ban.user_id == user_id) & Ban.lifted_at.is_null()
                               & (Ban.expires_at.is_null() | (Ban.expires_at > now)))
            .order_by(Ban.id.desc()))


def active_bans():
    """The service's part of an access snapshot: every current ban (a ban may outlive
    the access log, which keeps rows for the JWT lifetime only)."""
    now = utcnow()
    return [ban_change(ban) for ban in
            Ban.select().where(Ban.lifted_at.is_null()
                               & (Ban.expires_at.is_null() | (Ban.expires_at > now)))]


class ModerationStore:
    def __init__(self, db, config):
        self.db = db
        self.config = config

    # -- reports (5.1) ---------------------------------------------------------------------
    def create_report(self, payload, reporter, peers):
        reason = payload.get("reason") if isinstance(payload, dict) else None
        data = _load(ReportCreate, payload, refuse_blank=("details",) if reason == "other" else ())
        target = peers.target(data["target_type"], data["target_id"])  # 404 post/comment_not_found
        if target["author_id"] == reporter["id"]:
            raise OwnContent(fields={"target_id": "is your own " + data["target_type"]})
        query = Report.select().where(
            (Report.reporter_id == reporter["id"]) & (Report.target_type == data["target_type"])
            & (Report.target_id == data["target_id"]) & (Report.status == "open"))
        if query.exists():
            raise Conflict("You already have an open report on this item")
        try:
            with self.db.atomic():
                report = Report.create(
                    target_type=data["target_type"], target_id=data["target_id"],
                    post_id=target["post_id"], reason=data["reason"], details=data["details"],
                    reporter_id=reporter["id"], reporter_username=reporter["username"],
                    target_author_id=target["author_id"],
                    target_author_username=target["author_username"],
                    target_title=target["title"], target_content=target["content"],
                    created_at=utcnow())
                record_event(Outbox, ReportCreated(
                    report_id=report.id, target_type=report.target_type,
                    target_id=report.target_id, post_id=report.post_id,
                    target_author_id=report.target_author_id, reporter_id=reporter["id"],
                    reason=report.reason), key=report.id, actor_id=reporter["id"])
        except IntegrityError:  # a concurrent report of the same caller won
            raise Conflict("You already have an open report on this item")
        return report_public(report)

    def list_reports(self, status=None, page=1, limit=20):
        if status is not None and status not in REPORT_STATUSES:
            raise InvalidStatus(fields={"status": "must be open or resolved"})
        check_page(page, limit)
        query = Report.select()
        if status is not None:
            query = query.where(Report.status == status)
        total = query.count()
        rows = query.order_by(Report.id.desc()).paginate(page, limit)
        return {"count": total, "results": [report_public(r) for r in rows]}

    def reports_by_id(self, report_ids):
        """{id: report as the admin queue lists it}: the moderation stream's data."""
        ids = sorted({i for i in report_ids if is_id(i)})[:MAX_LIMIT]
        return {r.id: report_public(r) for r in Report.select().where(Report.id.in_(ids))} if ids else {}

    def open_reports_summary(self):
        """(open report count, the oldest open report's created_at or None): one query,
        answered from the partial index reports_open_created (migration 0005)."""
        count, oldest = (Report.select(fn.COUNT(SQL("*")), fn.MIN(Report.created_at))
                         .where(Report.status == "open").tuples().get())
        return count, oldest

    def refresh_queue_metrics(self):
        """The queue gauges (imageboard/metrics.py) from open_reports_summary()."""
        count, oldest = self.open_reports_summary()
        set_moderation_queue(count, oldest)
        return count, oldest

    def get_report(self, report_id):
        report = Report.get_or_none(Report.id == report_id) if is_id(report_id) else None
        if report is None:
            raise ReportNotFound()
        return report

    def resolve_report(self, report_id, payload, moderator, peers):
        report = self.get_report(report_id)
        action = payload.get("action") if isinstance(payload, dict) else None
        data = _load(ReportResolve, payload, required=("ban_days",) if action == "ban" else ())
        if data["action"] != "ban" and isinstance(payload, dict) and payload.get("ban_days") is not None:
            raise ValidationFailed(fields={"ban_days": "is only allowed with the ban action"})
        if report.status != "open":
            raise AlreadyResolved()
        if data["action"] == "ban":
            if report.target_author_id is None:
                raise UserNotFound("The author's account was deleted")
            if peers.user(report.target_author_id)["is_admin"]:  # UserNotFound if erased
                raise CannotBanAdmin()
        if data["action"] in ("remove", "ban"):
            peers.remove(report.target_type, report.target_id, report.reason, moderator["id"],
                         report.id)
        now = utcnow()
        with self.db.atomic():
            resolved = self._resolve(report, data["action"], data["note"], data["ban_days"],
                                     moderator, now,
                                     every_open=data["action"] in ("remove", "ban"))
            if data["action"] == "ban":
                self._ban(report.target_author_id, data["note"] or report.reason,
                          data["ban_days"], moderator, now, report_id=report.id)
        return report_public(next(r for r in resolved if r.id == report.id))

    def _resolve(self, report, action, note, ban_days, moderator, now, every_open):
        """Resolves `report` (and with `every_open` every other open report on its target)
        in the caller's transaction: each a resolve_report entry and report.resolved."""
        query = Report.select().where(Report.id == report.id)
        if every_open:
            query = Report.select().where(
                (Report.target_type == report.target_type)
                & (Report.target_id == report.target_id) & (Report.status == "open"))
        return self._resolve_rows(list(query.for_update()), action, note, ban_days,
                                  moderator, now)

    def _resolve_rows(self, rows, action, note, ban_days, moderator, now):
        resolved = []
        for row in rows:
            if row.status != "open":
                continue
            row.status, row.resolution_action, row.resolution_note = "resolved", action, note
            row.resolution_ban_days = ban_days if action == "ban" else None
            row.resolved_by_id, row.resolved_by_username = moderator["id"], moderator["username"]
            row.resolved_at = now
            row.save()
            self._log("resolve_report", "report", row.id, note, moderator, now)
            record_event(Outbox, ReportResolved(
                report_id=row.id, target_type=row.target_type, target_id=row.target_id,
                action=action, resolved_by=moderator["id"], reported_at=row.created_at),
                key=row.id, actor_id=moderator["id"])
            resolved.append(row)
        return resolved

    # -- bans (5.2) ------------------------------------------------------------------------
    def ban(self, user_id, payload, moderator, peers):
        user = peers.user(user_id)  # UserNotFound
        if user["is_admin"]:
            raise CannotBanAdmin()
        data = _load(BanCreate, payload, required=("days",))
        with self.db.atomic():
            ban = self._ban(user["id"], data["reason"], data["days"], moderator, utcnow())
        return ban_public(ban)

    def _ban(self, user_id, reason, days, moderator, now, report_id=None):
        """In the caller's transaction: the new ban replaces any current one."""
        now = now.replace(microsecond=0)  # shown in messages: whole seconds
        expires_at = None if days is None else now + timedelta(days=days)
        Ban.update(lifted_at=now, lifted_by=moderator["id"]).where(
            (Ban.user_id == user_id) & Ban.lifted_at.is_null()).execute()
        ban = Ban.create(user_id=user_id, reason=reason, created_at=now, expires_at=expires_at,
                         banned_by=moderator["id"], report_id=report_id)
        record_access_change(AccessChange, ban_change(ban))
        self._log("ban_user", "user", user_id, reason, moderator, now, expires_at=expires_at)
        record_event(Outbox, UserBanned(user_id=user_id, reason=reason, expires_at=expires_at,
                                        banned_by=moderator["id"], report_id=report_id),
                     key=user_id, actor_id=moderator["id"])
        return ban

    def unban(self, user_id, payload, moderator):
        data = _load(BanLift, payload if payload is not None else {})
        now = utcnow()
        with self.db.atomic():
            current = list(current_ban_query(user_id, now).for_update()) if is_id(user_id) else []
            if not current:
                raise NotBanned()
            Ban.update(lifted_at=now, lifted_by=moderator["id"]).where(
                (Ban.user_id == user_id) & Ban.lifted_at.is_null()).execute()
            record_access_change(AccessChange, {"kind": "unban", "user_id": user_id})
            self._log("unban_user", "user", user_id, data["reason"], moderator, now)
            record_event(Outbox, UserUnbanned(user_id=user_id, reason=data["reason"],
                                              unbanned_by=moderator["id"]),
                         key=user_id, actor_id=moderator["id"])

    def current_ban(self, user_id):
        ban = current_ban_query(user_id, utcnow()).first() if is_id(user_id) else None
        return None if ban is None else ban_public(ban)

    # -- modlog (5.3) ----------------------------------------------------------------------
    def _log(self, action, target_type, target_id, reason, moderator, now, expires_at=None,
             source_event_id=None):
        """One modlog entry; False if an entry of `source_event_id` exists (a redelivery)."""
        inserted = (ModlogEntry.insert(
            action=action, target_type=target_type, target_id=target_id, reason=reason or "",
            created_at=now, expires_at=expires_at,
            moderator_id=moderator["id"] if moderator else None,
            moderator_username=moderator["username"] if moderator else None,
            source_event_id=source_event_id)
            .on_conflict_ignore().returning(ModlogEntry.id).execute())
        return bool(list(inserted))

    def modlog(self, action=None, page=1, limit=20, is_admin=False):
        if action is not None and action not in MODLOG_ACTIONS:
            raise InvalidAction(fields={"action": "must be one of " + ", ".join(MODLOG_ACTIONS)})
        check_page(page, limit)
        query = ModlogEntry.select()
        if action is not None:
            query = query.where(ModlogEntry.action == action)
        total = query.count()
        rows = query.order_by(ModlogEntry.id.desc()).paginate(page, limit)
        return {"count": total, "results": [modlog_public(e, bool(is_admin)) for e in rows]}

    # -- events in -------------------------------------------------------------------------
    def handle_event(self, event, peers):
        """content.removed / content.restored (the posts and comments services), admins'
        deletions of others' items, user.deleted. Idempotent: an entry remembers its event."""
        p = event.payload
        if isinstance(p, ContentRemoved):
            return self._on_removed(event, p, peers)
        if isinstance(p, ContentRestored):
            moderator = {"id": p.restored_by, "username": peers.username(p.restored_by)}
            with self.db.atomic():
                return self._log(f"restore_{p.target_type}", p.target_type, p.target_id,
                                 p.reason, moderator, event.occurred_at,
                                 source_event_id=event.event_id)
        if isinstance(p, (PostDeleted, CommentDeleted)):
            return self._on_deleted(event, p, peers)
        if isinstance(p, UserDeleted):
            return self.erase_user(p.user_id)
        return None

    def _on_removed(self, event, p, peers):
        moderator = {"id": p.removed_by, "username": peers.username(p.removed_by)}
        with self.db.atomic():
            if not self._log(f"remove_{p.target_type}", p.target_type, p.target_id, p.reason,
                             moderator, event.occurred_at, source_event_id=event.event_id):
                return False  # handled before
            if p.report_id is None:
                # A direct removal resolves every open report on the item (section 4.3).
                rows = list(Report.select().where(
                    (Report.target_type == p.target_type) & (Report.target_id == p.target_id)
                    & (Report.status == "open")).for_update())
                self._resolve_rows(rows, "remove", p.reason, None, moderator, utcnow())
        return True

    def _on_deleted(self, event, p, peers):
        """An admin deleting someone else's item is logged (decision 13)."""
        if p.deleted_by == p.author_id:
            return False
        try:
            actor = peers.user(p.deleted_by)
        except UserNotFound:
            return False
        if not actor["is_admin"]:
            return False
        is_post = isinstance(p, PostDeleted)
        target_type, target_id = ("post", p.post_id) if is_post else ("comment", p.comment_id)
        with self.db.atomic():
            return self._log(f"delete_{target_type}", target_type, target_id, "", actor,
                             event.occurred_at, source_event_id=event.event_id)

    def erase_user(self, user_id):
        """Contract v2 section 6.3: the user's bans go; reports they made keep only
        `reporter: null, details: ""`; snapshots of their items are blanked. Modlog entries
        stay (an erased moderator's without the name)."""
        with self.db.atomic():
            Ban.delete().where(Ban.user_id == user_id).execute()
            Ban.update(banned_by=None).where(Ban.banned_by == user_id).execute()
            Ban.update(lifted_by=None).where(Ban.lifted_by == user_id).execute()
            # Their bans leave the access log too (the users service's log keeps the
            # erasure, which refuses every token of the id).
            AccessChange.delete().where(AccessChange.user_id == user_id).execute()
            Report.update(reporter_id=None, reporter_username=None, details="").where(
                Report.reporter_id == user_id).execute()
            Report.update(target_author_id=None, target_author_username=None, target_title=None,
                          target_content="").where(Report.target_author_id == user_id).execute()
            # An erased moderator's entries stay with the id only (no name).
            Report.update(resolved_by_username=None).where(Report.resolved_by_id == user_id).execute()
            ModlogEntry.update(moderator_username=None).where(
                ModlogEntry.moderator_id == user_id).execute()
        purge_outbox_when_published(self.db, user_id)
        return True

    def reports_of_user(self, user_id):
        """The data export (section 6.4): the reports the user made, oldest first, without
        the moderator."""
        if not is_id(user_id):
            return []
        rows = Report.select().where(Report.reporter_id == user_id).order_by(Report.id)
        return [report_public(r, resolver_visible=False) for r in rows]

    def record_dead_letter(self, letter):
        with self.db.atomic():
            record_dead_letter(self.db, letter)


class ModerationDatabase(Database):
    def __init__(self):
        super().__init__(database, ModerationStore, service_name="moderation")


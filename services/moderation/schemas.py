"""The answers of this service, shaped as contracts/schemas/moderation.py declares them."""
from imageboard.timefmt import iso


def _ref(user_id, username):
    return None if user_id is None else {"id": user_id, "username": username or ""}


def report_public(report, resolver_visible=True):
    """A report (contract v2 section 5.1); `resolver_visible=False` (the data export) hides
    the moderator (decision 25)."""
    resolution = None
    if report.status == "resolved":
        resolution = {
            "action": report.resolution_action,
            "note": report.resolution_note or "",
            "ban_days": report.resolution_ban_days,
            "resolved_by": (_ref(report.resolved_by_id, report.resolved_by_username)
                            if resolver_visible else None),
            "resolved_at": iso(report.resolved_at),
        }
    return {
        "id": report.id,
        "target_type": report.target_type,
        "target_id": report.target_id,
        "post_id": report.post_id,
        "reason": report.reason,
        "details": report.details,
        "status": report.status,
        "reporter": _ref(report.reporter_id, report.reporter_username),
        "target": {
            "author": _ref(report.target_author_id, report.target_author_username),
            "title": report.target_title,
            "content": report.target_content,
        },
        "created_at": iso(report.created_at),
        "resolution": resolution,
    }


def ban_public(ban):
    return {"user_id": ban.user_id, "reason": ban.reason, "created_at": iso(ban.created_at),
            "expires_at": iso(ban.expires_at)}


def ban_change(ban):
    """The ban as an access change (imageboard/access; contracts.events.AccessBan)."""
    return {"kind": "ban", "user_id": ban.user_id, "reason": ban.reason,
            "created_at": iso(ban.created_at), "expires_at": iso(ban.expires_at)}


def modlog_public(entry, with_moderator):
    """A modlog entry (section 5.3): `moderator` only to admins (decision 7)."""
    body = {
        "id": entry.id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "reason": entry.reason,
        "created_at": iso(entry.created_at),
        "expires_at": iso(entry.expires_at),
    }
    if with_moderator:
        body["moderator"] = _ref(entry.moderator_id, entry.moderator_username)
    return body

"""A comment's life after creation (contract v2 sections 4.1-4.3): its detail, edits by its
author, deletion by its author or an admin, removal and restore by admins. Each write is
one transaction with its event in the outbox, then the post's comments_count is set to the
live count (dependencies.py: sync_live_count), before the caller gets the answer.

Who sees what: a live comment, and a deleted one while it is listed (a placeholder), are
there for everyone; a removed one, and every comment of a removed post, only for admins
(404 `comment_not_found` for everyone else, the author included; the list of a removed
post's comments is 404 `post_not_found`).
"""
from contracts.errors import (AlreadyRemoved, BadRequest, CommentNotFound, NotContentAuthor,
                              NotRemoved, PostNotFound)
from contracts.events import CommentDeleted, CommentUpdated, ContentRemoved, ContentRestored
from contracts.schemas import CommentUpdate, RemovalRequest, load
from imageboard.events.outbox import record_event
from imageboard.pagination import is_id
from imageboard.timefmt import utcnow
from services.comments.models import Comment, Outbox, PostTarget
from services.comments.placeholders import delete_comment, set_removed
from services.comments.schemas import ITEM_COLUMNS, comment_row

DETAIL_SQL = (f"SELECT {', '.join(ITEM_COLUMNS)}, listed, "
              "coalesce((SELECT removed FROM post_targets WHERE post_targets.post_id = comments.post_id), FALSE) "
              "FROM comments WHERE id = %s")

UPSERT_TARGET = ("INSERT INTO post_targets (post_id, author_id, title, removed) "
                 "VALUES (%(post_id)s, %(author_id)s, %(title)s, %(removed)s) "
                 "ON CONFLICT (post_id) DO UPDATE SET author_id = EXCLUDED.author_id, "
                 "title = EXCLUDED.title, removed = EXCLUDED.removed")
INSERT_TARGET = ("INSERT INTO post_targets (post_id, author_id, title, removed) "
                 "VALUES (%(post_id)s, %(author_id)s, %(title)s, FALSE) "
                 "ON CONFLICT (post_id) DO NOTHING")


def post_removed(post_id):
    return bool(PostTarget.select(PostTarget.removed).where(PostTarget.post_id == post_id)
                .scalar())


def update_post_target(db, post_id, author_id, title, removed):
    """The posts service, after an edit, removal or restore of the post committed."""
    if not is_id(post_id) or not is_id(author_id) or not isinstance(title, str):
        raise BadRequest("Invalid post target")
    db.execute_sql(UPSERT_TARGET, {"post_id": post_id, "author_id": author_id, "title": title,
                                   "removed": bool(removed)})
    return True


def known_target(db, post_id, fetch):
    """The post's PostTarget: stored, else `fetch()` (the posts service's comment_target,
    404 for a missing or removed post) stored first. A removed post is PostNotFound."""
    target = PostTarget.get_or_none(PostTarget.post_id == post_id)
    if target is None:
        answer = fetch()
        db.execute_sql(INSERT_TARGET, {"post_id": post_id, "author_id": answer["author_id"],
                                       "title": answer["title"]})
        target = PostTarget.get_or_none(PostTarget.post_id == post_id)
    if target is None or target.removed:
        raise PostNotFound()
    return target


def _visible(db, comment_id, admin):
    """(row, listed, post removed) of a comment the caller may see, else 404."""
    if not is_id(comment_id):
        raise CommentNotFound()
    row = db.execute_sql(DETAIL_SQL, (comment_id,)).fetchone()
    if row is None:
        raise CommentNotFound()
    listed, post_is_removed = row[len(ITEM_COLUMNS)], row[len(ITEM_COLUMNS) + 1]
    removed, is_deleted = row[ITEM_COLUMNS.index("removed")], row[ITEM_COLUMNS.index("is_deleted")]
    if not admin and (post_is_removed or removed or (is_deleted and not listed)):
        raise CommentNotFound()
    return row


def get(store, comment_id, admin=False):
    row = _visible(store.db, comment_id, admin)
    return comment_row(row, store.config, admin=admin)


def _locked(comment_id):
    comment = Comment.select().where(Comment.id == comment_id).for_update().get_or_none()
    if comment is None:
        raise CommentNotFound()
    return comment


def update(store, comment_id, payload, actor):
    """Returns (answer, changed)."""
    admin = bool(actor.get("is_admin"))
    with store.db.atomic():
        _visible(store.db, comment_id, admin)
        comment = _locked(comment_id)
        if comment.is_deleted or comment.removed:  # placeholders cannot be edited
            raise CommentNotFound()
        if comment.author_id != actor["id"]:
            raise NotContentAuthor("Only the author may edit this comment")
        if not isinstance(payload, dict):
            raise BadRequest("Request body must be a JSON object", code="invalid_body")
        content = load(CommentUpdate, payload)["content"]
        changed = content != comment.content
        if changed:
            (Comment.update(content=content, edited=True, updated_at=utcnow())
             .where(Comment.id == comment.id).execute())
            record_event(Outbox, CommentUpdated(comment_id=comment.id, post_id=comment.post_id,
                                                author_id=comment.author_id),
                         key=comment.post_id, actor_id=actor["id"])
    return get(store, comment_id, admin=admin), changed


def delete(store, comment_id, actor):
    """Returns the comment's post id."""
    admin = bool(actor.get("is_admin"))
    with store.db.atomic():
        _visible(store.db, comment_id, admin)
        comment = _locked(comment_id)
        if comment.is_deleted:
            raise CommentNotFound()
        if comment.author_id != actor["id"] and not admin:
            raise NotContentAuthor("Only the author or an administrator may delete this comment")
        unlisted = []
        placeholder = delete_comment(comment, unlisted)
        record_event(Outbox, CommentDeleted(
            comment_id=comment.id, post_id=comment.post_id, author_id=comment.author_id,
            deleted_by=actor["id"], placeholder=placeholder, unlisted=unlisted),
            key=comment.post_id, actor_id=actor["id"])
    return comment.post_id


def _reason(reason):
    return load(RemovalRequest, {"reason": reason})["reason"]


def _locked_undeleted(comment_id):
    """The comment's row, locked for the transaction; a deleted one (or none) is 404."""
    if not is_id(comment_id):
        raise CommentNotFound()
    comment = _locked(comment_id)
    if comment.is_deleted:
        raise CommentNotFound()
    return comment


def remove(store, comment_id, reason, moderator_id, report_id, target_of):
    """`target_of(post_id)`: the post's PostTarget even if removed (title for the event)."""
    if not is_id(moderator_id) or (report_id is not None and not is_id(report_id)):
        raise BadRequest("Invalid moderator or report id")
    with store.db.atomic():
        comment = _locked_undeleted(comment_id)
        reason = _reason(reason)
        if comment.removed:
            raise AlreadyRemoved("This comment is removed already")
        target = target_of(comment.post_id)
        unlisted = set_removed(comment, True, reason, moderator_id, utcnow())
        record_event(Outbox, ContentRemoved(
            target_type="comment", target_id=comment.id, post_id=comment.post_id,
            post_title=target["title"], author_id=comment.author_id, reason=reason,
            removed_by=moderator_id, report_id=report_id, unlisted=unlisted),
            key=comment.post_id, actor_id=moderator_id)
    return comment.post_id


def restore(store, comment_id, reason, moderator_id, target_of):
    if not is_id(moderator_id):
        raise BadRequest("Invalid moderator id")
    with store.db.atomic():
        comment = _locked_undeleted(comment_id)
        reason = _reason(reason)
        if not comment.removed:
            raise NotRemoved("This comment is not removed")
        target = target_of(comment.post_id)
        relisted = set_removed(comment, False)
        record_event(Outbox, ContentRestored(
            target_type="comment", target_id=comment.id, post_id=comment.post_id,
            post_title=target["title"], author_id=comment.author_id, reason=reason,
            restored_by=moderator_id, relisted=relisted),
            key=comment.post_id, actor_id=moderator_id)
    return comment.post_id

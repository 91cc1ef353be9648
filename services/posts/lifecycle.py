"""Editing, removal and restore of posts (contract v2 sections 4.1 and 4.3), each one
transaction with its event in the outbox.

- update: the author only (admins too get 403 `forbidden`); the rules of creation; values
  equal to the current ones change nothing (no flag, no event); else `edited`, a fresh
  updated_at and `post.updated` (fields: what changed; title: the current one).
- remove / restore: admins (the gateway's require_admin, or the moderation service over
  RPC); `content.removed` / `content.restored` on moderation-events. A removed post is
  missing for everyone else on every read path (dependencies.py, search.py: `NOT removed`),
  its row and likes stay, so a restore brings it back unchanged.

After each commit the comments service is told the post's current title and whether it is
removed (PostsService._tell_comments): new comment.created events carry the new title and
a removed post's comments are 404.
"""
from contracts.errors import AlreadyRemoved, BadRequest, NotContentAuthor, NotRemoved, PostNotFound
from contracts.events import ContentRemoved, ContentRestored, PostUpdated
from contracts.schemas import PostUpdate, RemovalRequest, load
from imageboard.events.outbox import record_event
from imageboard.pagination import is_id
from imageboard.timefmt import utcnow
from services.posts.models import Outbox, Post

EDITABLE = ("title", "content")


def _locked(post_id, include_removed=False):
    if not is_id(post_id):
        raise PostNotFound()
    post = Post.select().where(Post.id == post_id).for_update().get_or_none()
    if post is None or (post.removed and not include_removed):
        raise PostNotFound()
    return post


def reason_of(reason):
    return load(RemovalRequest, {"reason": reason})["reason"]


def load_update(payload):
    if not isinstance(payload, dict):
        raise BadRequest("Request body must be a JSON object", code="invalid_body")
    if all(payload.get(name) is None for name in EDITABLE):
        raise BadRequest("Nothing to change: send title and/or content", code="missing_fields",
                         fields={name: "This field is required." for name in EDITABLE})
    return load(PostUpdate, payload)


def update(db, post_id, payload, actor):
    """Returns (post row, changed fields)."""
    with db.atomic():
        # Check order of section 3.2: 404, then 403 on the object, then 400, 422.
        post = _locked(post_id)
        if post.author_id != actor["id"]:
            raise NotContentAuthor("Only the author may edit this post")
        data = load_update(payload)
        changes = {name: data[name] for name in EDITABLE
                   if data.get(name) is not None and data[name] != getattr(post, name)}
        if not changes:
            return post, []
        now = utcnow()
        (Post.update(**changes, edited=True, updated_at=now)
         .where(Post.id == post.id).execute())
        for name, value in changes.items():
            setattr(post, name, value)
        post.edited, post.updated_at = True, now
        fields = [name for name in EDITABLE if name in changes]
        record_event(Outbox, PostUpdated(post_id=post.id, author_id=post.author_id,
                                         title=post.title, fields=fields),
                     key=post.id, actor_id=actor["id"])
    return post, fields


def remove(db, post_id, reason, moderator_id, report_id=None):
    if not is_id(moderator_id) or (report_id is not None and not is_id(report_id)):
        raise BadRequest("Invalid moderator or report id")
    with db.atomic():
        post = _locked(post_id, include_removed=True)
        reason = reason_of(reason)
        if post.removed:
            raise AlreadyRemoved("This post is removed already")
        now = utcnow()
        (Post.update(removed=True, removed_reason=reason, removed_at=now, removed_by=moderator_id)
         .where(Post.id == post.id).execute())
        post.removed, post.removed_reason = True, reason
        record_event(Outbox, ContentRemoved(
            target_type="post", target_id=post.id, post_id=post.id, post_title=post.title,
            author_id=post.author_id, reason=reason, removed_by=moderator_id,
            report_id=report_id), key=post.id, actor_id=moderator_id)
    return post


def restore(db, post_id, reason, moderator_id):
    if not is_id(moderator_id):
        raise BadRequest("Invalid moderator id")
    with db.atomic():
        post = _locked(post_id, include_removed=True)
        reason = reason_of(reason)
        if not post.removed:
            raise NotRemoved("This post is not removed")
        (Post.update(removed=False, removed_reason=None, removed_at=None, removed_by=None)
         .where(Post.id == post.id).execute())
        post.removed, post.removed_reason = False, None
        record_event(Outbox, ContentRestored(
            target_type="post", target_id=post.id, post_id=post.id, post_title=post.title,
            author_id=post.author_id, reason=reason, restored_by=moderator_id),
            key=post.id, actor_id=moderator_id)
    return post

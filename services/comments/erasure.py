"""The comments service's part of an account's erasure (contract v2 section 6.3), run when it
consumes `user.deleted`; idempotent (a replayed event finds nothing of the user left).

Each of the user's comments is deleted as placeholders.py says (newest first, so a reply of
theirs goes before their comment it answers), with a `comment.deleted` each; then each
touched post's comments_count is set to its live count, and the published outbox rows
naming the user go (imageboard/erasure.py).
"""
from contracts.events import CommentDeleted
from imageboard import avatars
from imageboard.erasure import purge_outbox_when_published
from imageboard.events.outbox import record_event
from services.comments.models import Comment, Outbox
from services.comments.placeholders import delete_comment


def erase_user(store, user_id, posts):
    """`store`: the CommentsStore (its db and live-count sync); returns how many comments."""
    with store.db.atomic():
        comments = list(Comment.select().where(Comment.author_id == user_id)
                        .order_by(Comment.id.desc()).for_update())
        for comment in comments:
            unlisted = []
            placeholder = delete_comment(comment, unlisted)
            record_event(Outbox, CommentDeleted(
                comment_id=comment.id, post_id=comment.post_id, author_id=user_id,
                deleted_by=user_id, placeholder=placeholder, unlisted=unlisted),
                key=comment.post_id, actor_id=user_id)
        avatars.mark_erased(store.db, user_id)
    for post_id in sorted({c.post_id for c in comments}):
        store.sync_live_count(posts, post_id)
    purge_outbox_when_published(store.db, user_id)
    return len(comments)

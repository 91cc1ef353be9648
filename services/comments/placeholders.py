"""Deleting, removing and restoring one comment (contract v2 section 4.2), in one place for
every path that changes whether a comment shows: deletion by its author or an admin, the
erasure of an account, an admin's removal and restore (lifecycle.py).

`listed` says whether a comment is in its post's list: a live comment (neither deleted nor
removed) is; a deleted or removed one is listed, as a placeholder, exactly while at least
one of its replies is listed. Each change recomputes it for the comment and then upwards
for its ancestors, stopping at the first that does not change (only children decide).

A deleted comment with replies (rows, listed or not) stays as a placeholder (author and
content erased, is_deleted); one without is deleted, and so is every deleted placeholder
above it left without replies (upward). Never delete a row that has replies: parent_id
cascades. A removed comment keeps its row, author and content (a restore brings it back).
"""
from services.comments.models import Comment


def _has_children(comment_id):
    return Comment.select().where(Comment.parent == comment_id).exists()


def _has_listed_children(comment_id):
    return Comment.select().where((Comment.parent == comment_id) & Comment.listed).exists()


def relist(comment_id, joined=None):
    """Recompute `listed` of the comment and of its ancestors as far as anything changes.
    Returns the ids of the comments that left the list; `joined`, if given, gets those that
    came (back) into it."""
    left = []
    while comment_id is not None:
        row = (Comment.select(Comment.id, Comment.parent, Comment.is_deleted, Comment.removed,
                              Comment.listed)
               .where(Comment.id == comment_id).get_or_none())
        if row is None:
            break
        listed = (not row.is_deleted and not row.removed) or _has_listed_children(row.id)
        if listed == row.listed:
            break
        Comment.update(listed=listed).where(Comment.id == row.id).execute()
        if not listed:
            left.append(row.id)
        elif joined is not None:
            joined.append(row.id)
        comment_id = row.parent_id
    return left


def delete_comment(comment, unlisted=None):
    """Call inside a transaction. Returns True if the comment stays listed as a placeholder.
    `unlisted`, if given, gets the ids of the placeholders above it that left the list with
    it (the events carry them: live streams drop those rows too)."""
    unlisted = [] if unlisted is None else unlisted
    if _has_children(comment.id):
        (Comment.update(author_id=None, author_username=None, author_avatar=None, content="",
                        is_deleted=True)
         .where(Comment.id == comment.id).execute())
        left = relist(comment.id)  # unlisted too if none of its replies is listed
        unlisted.extend(i for i in left if i != comment.id)
        return comment.id not in left
    parent_id = comment.parent_id
    Comment.delete().where(Comment.id == comment.id).execute()
    while parent_id is not None:  # placeholders above without a reply left leave too
        parent = Comment.get_or_none(Comment.id == parent_id)
        if parent is None or not parent.is_deleted or _has_children(parent.id):
            break
        parent_id = parent.parent_id
        Comment.delete().where(Comment.id == parent.id).execute()
        if parent.listed:
            unlisted.append(parent.id)
    unlisted.extend(relist(parent_id))
    return False


def set_removed(comment, removed, reason=None, moderator_id=None, now=None):
    """Call inside a transaction: mark the comment removed (or not) and relist upwards.
    Returns the ids of the placeholders above it that left the list (a removal) or came
    back into it (a restore)."""
    (Comment.update(removed=removed, removed_reason=reason if removed else None,
                    removed_at=now if removed else None,
                    removed_by=moderator_id if removed else None)
     .where(Comment.id == comment.id).execute())
    joined = []
    left = relist(comment.id, joined)
    return [i for i in (left if removed else joined) if i != comment.id]


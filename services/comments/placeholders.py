"""Deleting one comment (contract v2 section 4.2), in one place for every path that deletes
comments: the erasure of an account now, deletion by authors and admins (issue 18) later.

A comment with replies becomes a placeholder (author and content erased, is_deleted); one
without is deleted, and so is every placeholder above it left without replies (upward).
Never delete a row that has replies: parent_id cascades.
"""
from services.comments.models import Comment


def delete_comment(comment):
    """Call inside a transaction. Returns True if the comment stays as a placeholder."""
    if Comment.select().where(Comment.parent == comment.id).exists():
        (Comment.update(author_id=None, author_username=None, author_avatar=None, content="",
                        is_deleted=True)
         .where(Comment.id == comment.id).execute())
        return True
    parent_id = comment.parent_id
    Comment.delete().where(Comment.id == comment.id).execute()
    while parent_id is not None:  # placeholders above without a reply left leave too
        parent = Comment.get_or_none(Comment.id == parent_id)
        if (parent is None or not parent.is_deleted
                or Comment.select().where(Comment.parent == parent.id).exists()):
            break
        parent_id = parent.parent_id
        Comment.delete().where(Comment.id == parent.id).execute()
    return False

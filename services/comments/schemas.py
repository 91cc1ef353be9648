from imageboard.avatars import author
from imageboard.timefmt import iso

# The rules of a new comment: contracts.schemas.comments.CommentCreateRequest. The shapes
# below follow the response models there (tests/unit/test_response_shapes.py).


def comment_created(comment):
    """POST /api/comments/ answer: author is the bare id."""
    return {
        "id": comment.id,
        "post_id": comment.post_id,
        "author": comment.author_id,
        "content": comment.content,
        "created_at": iso(comment.created_at),
        "parent": comment.parent_id,
    }


# What a listed comment shows, in the order comment_row reads them.
ITEM_COLUMNS = ("id", "post_id", "author_id", "author_username", "author_avatar", "content",
                "created_at", "updated_at", "parent_id", "edited", "is_deleted", "removed",
                "removed_reason")


def comment_row(row, config, admin=False):
    """One comment, from the values of ITEM_COLUMNS (a plain tuple). A placeholder
    (contract v2 section 4.2: deleted, or removed and shown to anyone but an admin) has
    neither author nor content; admins (`admin`) see a removed comment's author, content
    and removed_reason."""
    (comment_id, post_id, author_id, author_username, author_avatar, content, created_at,
     updated_at, parent_id, edited, is_deleted, removed, removed_reason) = row[:len(ITEM_COLUMNS)]
    hidden = author_id is None or (removed and not admin)
    comment = {
        "id": comment_id,
        "post_id": post_id,
        "author": None if hidden else author(config, author_id, author_username, author_avatar),
        "content": "" if hidden else content,
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
        "parent": parent_id,
        "edited": edited,
        "is_deleted": is_deleted,
        "removed": removed,
    }
    if admin:
        comment["removed_reason"] = removed_reason
    return comment

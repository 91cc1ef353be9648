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
                "created_at", "updated_at", "parent_id", "is_deleted")


def comment_row(row, config):
    """One comment of a list, from the values of ITEM_COLUMNS (a plain tuple)."""
    (comment_id, post_id, author_id, author_username, author_avatar, content, created_at,
     updated_at, parent_id, is_deleted) = row[:len(ITEM_COLUMNS)]
    return {
        "id": comment_id,
        "post_id": post_id,
        # A placeholder (contract v2 section 4.2) has neither author nor content.
        "author": None if author_id is None else author(config, author_id, author_username,
                                                        author_avatar),
        "content": content,
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
        "parent": parent_id,
        "is_deleted": is_deleted,
    }

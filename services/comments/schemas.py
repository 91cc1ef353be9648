from imageboard.timefmt import iso
from imageboard.validation import Integer, Schema, String


class CommentCreateSchema(Schema):
    fields = {
        "post_id": Integer(min_value=1, max_value=2**63 - 1),
        "content": String(min_length=1, max_length=1000, strip=True),
        "parent": Integer(min_value=1, max_value=2**63 - 1, required=False),
    }


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


def comment_item(comment):
    return {
        "id": comment.id,
        "post_id": comment.post_id,
        "author": {"id": comment.author_id, "username": comment.author_username},
        "content": comment.content,
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.updated_at),
        "parent": comment.parent_id,
    }

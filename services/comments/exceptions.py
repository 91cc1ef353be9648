from imageboard.errors import BadRequest
# The posts service raises it when asked about a missing post; it passes through as is.
from services.posts.exceptions import PostNotFound  # noqa: F401


class InvalidParent(BadRequest):
    """A parent that does not exist or belongs to another post: the body refers to
    something it may not (400, like the contract's "validation error" for comments);
    404 stays reserved for the post itself."""

    code = "invalid_parent"
    default_message = "The parent comment does not exist on this post"


class InvalidPostId(BadRequest):
    code = "invalid_post_id"
    default_message = "post_id must be a positive integer"

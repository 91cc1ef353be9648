from imageboard.errors import BadRequest, Forbidden, NotFound


class PostNotFound(NotFound):
    code = "post_not_found"
    default_message = "Post not found"


class NotPostAuthor(Forbidden):
    code = "not_post_author"
    default_message = "Only the author or an administrator may delete this post"


class InvalidOrdering(BadRequest):
    code = "invalid_ordering"
    default_message = "Unknown ordering"


class InvalidImage(BadRequest):
    """Contract decision 10: not a decodable JPEG/PNG, or too many pixels -> 400."""

    code = "invalid_image"
    default_message = "The image must be a JPEG or PNG file"

from imageboard.errors import BadRequest, NotFound, Unauthorized


class UserNotFound(NotFound):
    code = "user_not_found"
    default_message = "User not found"


class UserAlreadyExists(BadRequest):
    """The contract answers a duplicate username or email with 400."""

    code = "user_exists"
    default_message = "A user with this username or email already exists"


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    default_message = "Invalid username or password"

"""Response shapes of the users service (the models they follow: contracts.schemas.users,
where the request bodies' rules are too)."""
from imageboard.media import image_url
from imageboard.timefmt import iso


def user_public(user, config):
    """The profile's own fields (the gateway adds the counts and makes avatar_url absolute)."""
    return {
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "bio": user.bio,
        "avatar_url": image_url(config, user.avatar),
        "created_at": iso(user.created_at),
    }

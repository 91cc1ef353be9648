"""Response shapes of the users service (the models they follow: contracts.schemas.users,
where the request bodies' rules are too)."""
from imageboard.timefmt import iso


def user_public(user):
    return {
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "created_at": iso(user.created_at),
    }

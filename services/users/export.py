"""What "me" (contract v2 section 3.1) needs from the users service until GET /api/users/me/
lands (feat/profile): the profile with its email, and the stored admin flag."""
from services.users.schemas import user_public


def me(store, user_id):
    user = store.get(user_id)
    return dict(user_public(user), email=user.email, is_admin=user.is_admin)

"""The notifications service's part of an account's erasure (contract v2 section 6.3), run when
it consumes `user.deleted`, idempotent:

- notifications to the user, and those their actions caused (data.actor_id);
- the service's copy of the user (known_users);
- published outbox rows naming them (imageboard/erasure.py);
- the id goes into erased_users: an event naming it later (a replay, a `post.deleted` of
  their post made by the erasure itself) notifies nobody, and the notifications about
  their posts (others' replies there carry the post's title) go when those posts'
  `post.deleted` arrive.
"""
from imageboard.erasure import USER_ID_FIELDS, purge_outbox_when_published
from services.notifications.models import KnownUser

_RECORD = "INSERT INTO erased_users (user_id) VALUES (%s) ON CONFLICT DO NOTHING"
_ANY_ERASED = "SELECT 1 FROM erased_users WHERE user_id = ANY(%s) LIMIT 1"


def erase_user(db, user_id):
    with db.atomic():
        db.execute_sql(_RECORD, (user_id,))
        deleted = db.execute_sql(
            "DELETE FROM notifications WHERE user_id = %s OR data ->> 'actor_id' = %s",
            (user_id, str(user_id))).rowcount
        KnownUser.delete().where(KnownUser.id == user_id).execute()
    purge_outbox_when_published(db, user_id)
    return deleted


def user_ids_of(event):
    """Every user id an event names: its actor and its payload's user-id fields."""
    ids = {getattr(event.payload, name, None) for name in USER_ID_FIELDS}
    ids.add(event.actor_id)
    return sorted(i for i in ids if isinstance(i, int) and i > 0)


def names_erased_user(db, event):
    ids = user_ids_of(event)
    return bool(ids) and db.execute_sql(_ANY_ERASED, (ids,)).fetchone() is not None


def forget_erased_post(db, event):
    """post.deleted of an erased user's post: the notifications about it go."""
    if db.execute_sql(_ANY_ERASED, ([event.payload.author_id],)).fetchone() is None:
        return 0
    with db.atomic():
        return db.execute_sql("DELETE FROM notifications WHERE data ->> 'post_id' = %s",
                              (str(event.payload.post_id),)).rowcount


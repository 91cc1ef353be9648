"""Author avatars copied into posts and comments (contract v2 section 3.1), the same for both
services: each keeps `author_avatars` (the latest avatar file name per author, from
`user.updated`) and an `author_avatar` column on its rows, so lists need no call to the users
service. `user.deleted` leaves a row with `erased` only: a replayed `user.updated` of an
erased user then changes nothing. Idempotent: the same event applied twice sets the same.
"""
from contracts.errors import AccountErased
from imageboard.media import image_url

_UPSERT = ("INSERT INTO author_avatars (user_id, avatar) VALUES (%(uid)s, %(avatar)s) "
           "ON CONFLICT (user_id) DO UPDATE SET avatar = EXCLUDED.avatar "
           "WHERE NOT author_avatars.erased RETURNING user_id")
_ERASED = ("INSERT INTO author_avatars (user_id, avatar, erased) VALUES (%(uid)s, NULL, TRUE) "
           "ON CONFLICT (user_id) DO UPDATE SET avatar = NULL, erased = TRUE")
_CURRENT = "SELECT avatar, erased FROM author_avatars WHERE user_id = %s"


def apply_update(db, table, user_id, avatar):
    """user.updated: the author's rows in `table` (posts or comments) show `avatar`."""
    with db.atomic():
        if db.execute_sql(_UPSERT, {"uid": user_id, "avatar": avatar}).fetchone() is None:
            return 0  # erased
        return db.execute_sql(f"UPDATE {table} SET author_avatar = %s WHERE author_id = %s "
                              "AND author_avatar IS DISTINCT FROM %s",
                              (avatar, user_id, avatar)).rowcount


def mark_erased(db, user_id):
    """Call inside the erasure's transaction."""
    db.execute_sql(_ERASED, {"uid": user_id})


def current(db, user_id):
    """(avatar file name or None, erased) for a new post or comment of this author."""
    row = db.execute_sql(_CURRENT, (user_id,)).fetchone()
    return (row[0], row[1]) if row else (None, False)


def refuse_erased(db, user_id):
    """A write by an erased user (a token still valid for a moment) writes nothing of theirs:
    AccountErased; returns the author's avatar otherwise."""
    avatar, erased = current(db, user_id)
    if erased:
        raise AccountErased()
    return avatar


def author(config, user_id, username, avatar):
    """The `author` object of a post or comment."""
    return {"id": user_id, "username": username, "avatar_url": image_url(config, avatar)}

"""What the data export (GET /api/users/me/export/, contract v2 section 6.4) needs from
the posts service: a user's posts with their like lists, and the likes the user gave.
Everything, oldest first, unpaginated (the export is limited per user instead)."""
from imageboard.pagination import is_id
from services.posts.schemas import FEED_COLUMNS, REMOVAL_COLUMNS, iso_sql, post_detail

# Like DETAIL_SQL (dependencies.py) for every post of an author, in one round trip.
POSTS_OF_AUTHOR_SQL = (
    f"SELECT {', '.join(FEED_COLUMNS)}, "
    "(SELECT coalesce(json_agg(json_build_object('user_id', user_id, 'username', username) "
    "                          ORDER BY created_at), '[]'::json) "
    f" FROM likes WHERE post_id = posts.id), {', '.join(REMOVAL_COLUMNS)} "
    "FROM posts WHERE author_id = %s ORDER BY created_at, id"
)
LIKES_OF_USER_SQL = (f"SELECT post_id, {iso_sql('created_at')} FROM likes WHERE user_id = %s "
                     "ORDER BY created_at, post_id")


def posts_of_author(store, author_id):
    """Post details (section 3.1) plus `removed_reason` (decision 25: own removed posts
    with their reason; moderators stay hidden)."""
    if not is_id(author_id):
        return []
    rows = store.db.execute_sql(POSTS_OF_AUTHOR_SQL, (author_id,)).fetchall()
    return [post_detail(row, store.config, admin=True) for row in rows]


def likes_of_user(store, user_id):
    if not is_id(user_id):
        return []
    rows = store.db.execute_sql(LIKES_OF_USER_SQL, (user_id,)).fetchall()
    return [{"post_id": post_id, "created_at": created_at} for post_id, created_at in rows]

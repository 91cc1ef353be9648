"""Erasing a user from ClickHouse (contract v2 section 6.3) when the pipeline reads
`user.deleted`: every row naming them, in every table, goes, and nothing of theirs comes back.

1. The batch's `user.deleted` ids are recorded in `erased_users` (step 'started') before
   the batch's rows are written, and every row of an event naming an erased id (actor or any
   user-id field of the payload, imageboard/erasure.py) is dropped: a replay, or a
   `post.deleted` the erasure itself made, stores nothing of them.
2. Their standing likes on other users' posts are taken out of post_likes and
   post_like_totals (the posts service withdrew them without `post.unliked`, decision 24),
   once: step 'likes_withdrawn' is recorded right after.
3. `ALTER TABLE ... DELETE` (a mutation; ClickHouse 18.16 and current releases) in every
   table with a user-id column, matching any of them; in `events` also the payload's
   fields inside `body`; in post_likes and post_like_totals the rows of their posts.
   Mutations run in the background; they cover every row stored before them, and step 1
   keeps later ones out. Re-running them (a retried batch, a replayed user.deleted) is harmless.
"""
import logging

from imageboard.erasure import USER_ID_FIELDS

log = logging.getLogger(__name__)

ACTOR = "actor_id"
# Tables whose rows are keyed by post only: the erased user's posts' rows go from these.
BY_POST = ("post_likes", "post_like_totals")

USER_COLUMNS = """
SELECT table, groupArray(name) FROM system.columns
WHERE database = currentDatabase() AND name IN %(names)s
  AND table NOT IN ('erased_users', 'dead_letters')
GROUP BY table
"""
ENGINES = ("SELECT name FROM system.tables WHERE database = currentDatabase() "
           "AND engine NOT IN ('View', 'MaterializedView')")
ERASED_AMONG = "SELECT DISTINCT user_id FROM erased_users WHERE user_id IN %(ids)s"
STEPS = "SELECT DISTINCT step FROM erased_users WHERE user_id = %(uid)s"
THEIR_POSTS = "SELECT DISTINCT post_id FROM posts WHERE author_id = %(uid)s"
# Their likes standing now (a like and an unlike alternate: the sum of deltas, each event once).
STANDING_LIKES = """
SELECT post_id FROM
(SELECT post_id, event_id, any(delta) AS delta FROM likes WHERE user_id = %(uid)s
 GROUP BY post_id, event_id)
GROUP BY post_id HAVING sum(delta) > 0
"""
LATEST_TOGGLES = """
SELECT post_id, argMax(likes_count, toggled_us), max(toggled_us) FROM post_likes
WHERE post_id IN %(posts)s GROUP BY post_id
"""


def user_ids_of(event):
    """Every user id an event names: its actor and its payload's user-id fields."""
    ids = {getattr(event.payload, name, None) for name in USER_ID_FIELDS}
    ids.add(event.actor_id)
    return frozenset(i for i in ids if isinstance(i, int) and i > 0)


def erased_among(client, ids):
    ids = tuple(sorted(set(ids)))  # a tuple: clickhouse-driver writes a list as an Array
    if not ids:
        return set()
    return {row[0] for row in client.execute(ERASED_AMONG, {"ids": ids})}


def record(client, user_ids, step):
    client.execute("INSERT INTO erased_users (user_id, step) VALUES",
                   [(uid, step) for uid in user_ids])


def erase(client, uid):
    """Steps 2 and 3 for one user (step 1 is done by the caller, for the whole batch)."""
    steps = {row[0] for row in client.execute(STEPS, {"uid": uid})}
    if "done" in steps:
        return
    their_posts = [row[0] for row in client.execute(THEIR_POSTS, {"uid": uid})]
    if "likes_withdrawn" not in steps:
        _withdraw_likes(client, uid, set(their_posts))
        record(client, [uid], "likes_withdrawn")
    for table, columns in client.execute(USER_COLUMNS, {"names": (ACTOR,) + USER_ID_FIELDS}):
        if table not in _tables(client):
            continue
        condition = " OR ".join(f"{c} = {int(uid)}" for c in sorted(columns))
        if table == "events":
            condition += " OR " + " OR ".join(
                f"visitParamExtractUInt(body, '{name}') = {int(uid)}" for name in USER_ID_FIELDS)
        client.execute(f"ALTER TABLE {table} DELETE WHERE {condition}")
    if their_posts:
        ids = ", ".join(str(int(p)) for p in their_posts)
        for table in BY_POST:
            client.execute(f"ALTER TABLE {table} DELETE WHERE post_id IN ({ids})")
    record(client, [uid], "done")
    log.info("erased a user from ClickHouse", extra={"user_id": uid, "posts": len(their_posts)})


def _tables(client):
    return {row[0] for row in client.execute(ENGINES)}


def _withdraw_likes(client, uid, their_posts):
    """Their standing likes on others' posts: one toggle less in post_likes (a row newer than
    the latest) and -1 in post_like_totals, per post."""
    posts = [p for (p,) in client.execute(STANDING_LIKES, {"uid": uid}) if p not in their_posts]
    if not posts:
        return
    latest = client.execute(LATEST_TOGGLES, {"posts": tuple(posts)})
    if not latest:
        return
    client.execute("INSERT INTO post_likes (post_id, likes_count, toggled_us) VALUES",
                   [(post_id, max(int(count) - 1, 0), int(toggled) + 1)
                    for post_id, count, toggled in latest])
    client.execute("INSERT INTO post_like_totals (post_id, likes, known) VALUES",
                   [(post_id, -1 if int(count) > 0 else 0, 0) for post_id, count, _ in latest])

"""posts/stats as it was asked before migration 0006 (commit f1b88db): every duplicate
removed at query time (uniqExact over posts, the set of the period's post ids over
post_likes FINAL). Slow over a long period, exact whatever the tables hold: the reference
the service's answers are compared with, on the same ClickHouse database.
"""
from services.analytics.dependencies import posts_stats_answer

RANGE = "post_id >= %(low)s AND post_id <= %(high)s"
PERIOD_POSTS = f"SELECT post_id FROM posts WHERE day >= %(start)s AND day <= %(end)s AND {RANGE}"
PERIOD_DELETIONS = f"SELECT post_id FROM post_deletions WHERE {RANGE}"

BOUNDS = """
SELECT count(), min(post_id), max(post_id) FROM posts
WHERE day >= %(start)s AND day <= %(end)s
"""
LIKES = f"""
SELECT sum(likes), argMax(post_id, tuple(likes, -toInt64(post_id))), max(likes)
FROM
(
    SELECT post_id, greatest(likes_count, 0) AS likes FROM post_likes FINAL
    WHERE {RANGE} AND post_id IN ({PERIOD_POSTS}) AND post_id NOT IN ({PERIOD_DELETIONS})
)
"""
AUTHORS = f"""
SELECT author_id, any(author_username) AS username, uniqExact(post_id) AS posts_count
FROM posts
WHERE day >= %(start)s AND day <= %(end)s AND {RANGE} AND post_id NOT IN ({PERIOD_DELETIONS})
GROUP BY author_id WITH TOTALS
ORDER BY posts_count DESC, author_id ASC
LIMIT 10
"""
TITLE = """
SELECT post_id, any(title) FROM posts
WHERE day >= %(start)s AND day <= %(end)s AND post_id = %(post_id)s GROUP BY post_id
"""
FIRST_POST = f"""
SELECT post_id, any(title) FROM posts
WHERE day >= %(start)s AND day <= %(end)s
  AND post_id IN ({PERIOD_POSTS} AND post_id NOT IN ({PERIOD_DELETIONS}))
GROUP BY post_id ORDER BY post_id LIMIT 1
"""


def reference_posts_stats(ch, start, end):
    """The answer of GET /api/analytics/posts/stats/ for [start, end] (dates in range)."""
    params = {"start": start, "end": end}
    rows, params["low"], params["high"] = ch.execute(BOUNDS, params)[0]
    active, total_posts, total_likes, most_likes, best = [], 0, 0, 0, None
    if rows:
        *active, totals = ch.execute(AUTHORS, params)
        total_posts = totals[2]
        total_likes, most_liked, most_likes = ch.execute(LIKES, params)[0]
    if total_posts:
        if most_likes > 0:
            post_id, title = ch.execute(TITLE, dict(params, post_id=most_liked))[0]
        else:
            post_id, title = ch.execute(FIRST_POST, params)[0]
        best = {"post_id": post_id, "title": title, "likes_count": int(max(most_likes, 0))}
    return posts_stats_answer(start, end, total_posts, active, total_likes, best)

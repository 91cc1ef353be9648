"""The SQL behind the analytics endpoints. Every count deduplicates (event_id, or the
aggregate id), so a batch the pipeline wrote twice is counted once even before ClickHouse
merges the copies away.

What counts (docs/analytics.md, "What the numbers mean"): the current state of things.
A deleted post no longer counts, nor do its likes and comments; an unliked like no longer
counts. Likes of a post = likes - unlikes (the toggle alternates, so that is the number of
users whose like stands).
"""

# Deleted posts among those created in the period: a set the size of the period, not of
# every deletion ever (post_deletions is ordered by post_id).
PERIOD_DELETIONS = """
    SELECT post_id FROM post_deletions
    WHERE post_id IN (SELECT post_id FROM posts WHERE day >= %(start)s AND day <= %(end)s)
"""

# Ids of the posts created in the period that still exist.
PERIOD_POST_IDS = f"""
    SELECT post_id FROM posts
    WHERE day >= %(start)s AND day <= %(end)s
      AND post_id NOT IN ({PERIOD_DELETIONS})
"""

# Standing likes of those posts (posts without likes have no row here). `likes` is ordered
# by post_id, so the IN set selects the few granules holding those posts. No JOIN with
# posts: it cost more than the rest of the query on ClickHouse 18.16.
POST_LIKES = f"""
SELECT sum(likes) AS total_likes,
       argMax(post_id, tuple(likes, -toInt64(post_id))) AS most_liked,
       max(likes) AS most_likes
FROM
(
    SELECT post_id,
           greatest(toInt64(uniqExactIf(event_id, delta = 1))
                    - toInt64(uniqExactIf(event_id, delta = -1)), 0) AS likes
    FROM likes
    WHERE post_id IN ({PERIOD_POST_IDS})
    GROUP BY post_id
)
"""

MOST_ACTIVE_LIMIT = 10

# The top authors; WITH TOTALS appends one more row whose posts_count is the period's total
# (uniqExact over all rows: every live post once).
MOST_ACTIVE_USERS = f"""
SELECT author_id, any(author_username) AS username, uniqExact(post_id) AS posts_count
FROM posts
WHERE day >= %(start)s AND day <= %(end)s
  AND post_id NOT IN ({PERIOD_DELETIONS})
GROUP BY author_id WITH TOTALS
ORDER BY posts_count DESC, author_id ASC
LIMIT {MOST_ACTIVE_LIMIT}
"""

# Title of the most liked post; with no likes at all, the lowest id wins the tie at zero.
POST_TITLE = """
SELECT post_id, any(title) FROM posts
WHERE day >= %(start)s AND day <= %(end)s AND post_id = %(post_id)s
GROUP BY post_id
"""
FIRST_POST = f"""
SELECT post_id, any(title) FROM posts
WHERE day >= %(start)s AND day <= %(end)s AND post_id IN ({PERIOD_POST_IDS})
GROUP BY post_id ORDER BY post_id LIMIT 1
"""

# One user's standing posts, comments and likes in [since, until], per action and day.
# A like counts on the day it was (last) given, if it still stands; posts, comments and
# likes of posts deleted since are left out.
USER_ACTIVITY = """
SELECT action, action_day, count() AS n
FROM
(
    SELECT post_id, kind AS action, any(day) AS action_day
    FROM user_actions
    WHERE user_id = %(user_id)s AND kind IN ('post', 'comment')
      AND day >= %(since)s AND day <= %(until)s
    GROUP BY post_id, kind, event_id
    UNION ALL
    SELECT post_id, 'like' AS action, maxIf(day, kind = 'like') AS action_day
    FROM user_actions
    WHERE user_id = %(user_id)s AND kind IN ('like', 'unlike')
    GROUP BY post_id
    HAVING uniqExactIf(event_id, kind = 'like') > uniqExactIf(event_id, kind = 'unlike')
)
WHERE action_day >= %(since)s AND action_day <= %(until)s
  AND post_id NOT IN (
      SELECT post_id FROM post_deletions
      WHERE post_id IN (SELECT post_id FROM user_actions WHERE user_id = %(user_id)s))
GROUP BY action, action_day
"""

USER_REGISTERED = "SELECT count() FROM users WHERE user_id = %(user_id)s"

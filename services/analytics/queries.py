"""The SQL behind the analytics endpoints. Every count is exact even before ClickHouse
merges away the copies of a batch the pipeline wrote twice or of an event re-sent: posts
are counted by distinct post_id, and a post's likes are read from post_likes, where a copy
of a toggle cannot change the answer (below).

What counts (docs/analytics.md, "What the numbers mean"): the current state of things.
A deleted post no longer counts, nor do its likes and comments; an unliked like no longer
counts. Likes of a post = likes_count of its latest toggle (the posts service counts them
under the post's row lock, so that is the number of users whose like stands).
"""

# The period's posts (rows, copies included) and the range of their ids, asked first: the
# queries below take the range as constants %(low)s / %(high)s. It is a cheap index
# condition on tables ordered by post_id (ids grow with time, so a period's posts sit
# together there), and as constants it is computed once, not once per subquery (18.16 runs
# each scalar subquery again). Every query also keeps to the range, so a post arriving
# after this one is left out by all of them alike.
PERIOD_BOUNDS = """
SELECT count(), min(post_id), max(post_id) FROM posts
WHERE day >= %(start)s AND day <= %(end)s
"""
IN_PERIOD_RANGE = "post_id >= %(low)s AND post_id <= %(high)s"

# Ids of the posts created in the period (copies included).
PERIOD_POSTS = f"""
    SELECT post_id FROM posts
    WHERE day >= %(start)s AND day <= %(end)s AND {IN_PERIOD_RANGE}
"""

# A superset of the deleted posts among those created in the period, for NOT IN: the
# deletions in their id range. It needs no set of the period's posts (building one cost
# more than the rest of a long period's query).
PERIOD_DELETIONS = f"SELECT post_id FROM post_deletions WHERE {IN_PERIOD_RANGE}"

# Ids of the posts created in the period that still exist.
PERIOD_POST_IDS = f"{PERIOD_POSTS} AND post_id NOT IN ({PERIOD_DELETIONS})"

# Standing likes of those posts (posts never liked have no row here), from post_likes
# (migration 0005): per post, one row per batch of toggles, the latest toggle's likes_count
# and time. FINAL keeps each post's row of the latest toggle (ReplacingMergeTree's version),
# as a merge would: exact before merges, since a copy of a toggle has the same time and
# count. Every filter is on post_id alone (the sorting key), so FINAL never sees part of a
# post's rows. The id range selects the granules; the IN set (the period's posts) only
# filters rows: using a million-post set for the index analysis, too, cost more than the
# rest of a year's query, hence use_index_for_in_with_subqueries = 0. Measured on 18.16 at
# 10 M events, FINAL beat argMax(likes_count, toggled_us) ... GROUP BY post_id (a merge of
# sorted parts, no hash table), and both beat counting like events by ~3x over a year.
POST_LIKES = f"""
SELECT sum(likes) AS total_likes,
       argMax(post_id, tuple(likes, -toInt64(post_id))) AS most_liked,
       max(likes) AS most_likes
FROM
(
    SELECT post_id, greatest(likes_count, 0) AS likes
    FROM post_likes FINAL
    WHERE {IN_PERIOD_RANGE}
      AND post_id IN ({PERIOD_POSTS})
      AND post_id NOT IN ({PERIOD_DELETIONS})
)
SETTINGS use_index_for_in_with_subqueries = 0
"""

MOST_ACTIVE_LIMIT = 10

# The top authors; WITH TOTALS appends one more row whose posts_count is the period's total
# (uniqExact over all rows: every live post once).
MOST_ACTIVE_USERS = f"""
SELECT author_id, any(author_username) AS username, uniqExact(post_id) AS posts_count
FROM posts
WHERE day >= %(start)s AND day <= %(end)s AND {IN_PERIOD_RANGE}
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

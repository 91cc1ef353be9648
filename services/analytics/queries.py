"""The SQL behind the analytics endpoints. Every count is exact even before ClickHouse
merges away the copies of a batch the pipeline wrote twice or of an event re-sent: `posts`
holds one row per post (the pipeline checks each batch against it, unique_posts.py;
migration 0006 removed older copies), a post's standing likes add up exactly in
post_like_totals (like_totals.py), and its latest toggle is read from post_likes, where a
copy of a toggle cannot change the answer (below).

What counts (docs/analytics.md, "What the numbers mean"): the current state of things.
A deleted post no longer counts, nor do its likes and comments; an unliked like no longer
counts. Likes of a post = likes_count of its latest toggle (the posts service counts them
under the post's row lock, so that is the number of users whose like stands).
"""

# Each day's lowest and highest post id (post_day_ids, migration 0006: a row or a few per
# day), asked first. From them the caller takes the period's id range (%(low)s, %(high)s)
# and the days outside the period whose ids reach into it. The range is a cheap index
# condition on tables ordered by post_id (ids grow with time, so a period's posts sit
# together there), passed as constants: computed once, not once per subquery (18.16 runs
# each scalar subquery again). Every query keeps to the range, so a post arriving after
# this one is left out by all of them alike.
DAY_ID_RANGES = """
SELECT day, minMerge(min_id), maxMerge(max_id) FROM post_day_ids GROUP BY day
"""
IN_PERIOD_RANGE = "post_id >= %(low)s AND post_id <= %(high)s"

# The posts in the period's id range created on %(days)s, days outside the period. Ids grow
# with time but not strictly (two posts created concurrently may commit their ids and times
# in either order), so a few posts of the days next to the period can fall inside its
# range; asked only if DAY_ID_RANGES shows such days, and passed on as %(outside)s.
OUTSIDE_PERIOD = f"""
SELECT post_id FROM posts WHERE day IN %(days)s AND {IN_PERIOD_RANGE}
"""
# No post has id 0 (ids come from a PostgreSQL sequence starting at 1): the value of
# %(outside)s when there are none (`NOT IN ()` is not SQL).
NO_POSTS = (0,)

# Ids of the posts created in the period.
PERIOD_POSTS = f"""
    SELECT post_id FROM posts
    WHERE day >= %(start)s AND day <= %(end)s AND {IN_PERIOD_RANGE}
"""

# A superset of the deleted posts among those created in the period, for NOT IN: the
# deletions in their id range. It needs no set of the period's posts (building one cost
# more than the rest of a long period's query).
PERIOD_DELETIONS = f"SELECT post_id FROM post_deletions WHERE {IN_PERIOD_RANGE}"

# The period's posts, as a condition on post_id alone: its id range minus the few posts
# created outside it. No set of every post of the period (900 k ids for a year at 10 M
# events: building and probing it took ~250 ms). Exact only if every id in the range that
# has likes also has a `posts` row: LIKE_TOTALS checks that.
IN_PERIOD = f"{IN_PERIOD_RANGE} AND post_id NOT IN %(outside)s"

# Standing likes of the period's live posts: a plain sum over post_like_totals (migration
# 0006, analytics_pipeline/like_totals.py), whose rows add up per post to its latest
# toggle's likes, copies or not, and to nothing once it is deleted. `known` adds up to one
# per live post, plus one per post liked before (or without) its post.created stored: the
# caller compares it with the period's live posts (MOST_ACTIVE_USERS' total) and, if they
# differ, asks POST_LIKES_BY_SET, which keeps to the posts by their ids.
LIKE_TOTALS = f"""
SELECT sum(known) AS posts, sum(likes) AS total_likes
FROM post_like_totals
WHERE {IN_PERIOD}
"""

# The most liked post, exactly, without every post's latest toggle. A post's likes now are
# the likes_count of one of its rows in post_likes (its latest), so no post can have more
# than the highest likes_count of its rows. First the posts of the TOP_TOGGLES_LIMIT rows
# with the most likes_count in the range (any post: a scan of two columns), and their likes
# now (CURRENT_LIKES, over those few ids). If the best of them has more likes than the last
# of those rows, no other post can reach it: done. Otherwise LIKES_AT_LEAST takes every
# post with a row at or above that best and compares them all.
TOP_TOGGLES_LIMIT = 20
TOP_TOGGLES = f"""
SELECT post_id, likes_count FROM post_likes
WHERE {IN_PERIOD_RANGE}
ORDER BY likes_count DESC
LIMIT {TOP_TOGGLES_LIMIT}
"""

# Likes now of some posts, kept to the period's live ones; ties to the lowest id. A post's
# likes now are those of its latest toggle: argMax over its rows by toggled_us, exact before
# merges (a copy of a toggle has the same time and count). For a few ids argMax reads less
# than FINAL, which merges every row of the granules it touches (19 vs 10 ms for 50 ids
# spread over a year, one core).
BEST_OF = """
SELECT argMax(post_id, tuple(likes, -toInt64(post_id))) AS most_liked, max(likes) AS most_likes
FROM
(
    SELECT post_id, greatest(argMax(likes_count, toggled_us), 0) AS likes
    FROM post_likes
    PREWHERE post_id IN {candidates}
    WHERE {live}
    GROUP BY post_id
)
"""
CURRENT_LIKES = BEST_OF.format(candidates="%(candidates)s", live=f"""{IN_PERIOD}
      AND post_id NOT IN (SELECT post_id FROM post_deletions WHERE post_id IN %(candidates)s)""")
LIKES_AT_LEAST = BEST_OF.format(
    candidates=f"""(SELECT post_id FROM post_likes
                    WHERE {IN_PERIOD_RANGE} AND likes_count >= %(threshold)s)""",
    live=f"{IN_PERIOD} AND post_id NOT IN ({PERIOD_DELETIONS})")

# Standing likes and the most liked post keeping to the period's posts by the set of their
# ids: right whatever post_like_totals holds, and slow over a long period (a year at 10 M
# events: ~250 ms). The id range selects the granules; the IN set only filters rows: using
# a million-post set for the index analysis, too, cost more than the rest of a year's
# query, hence use_index_for_in_with_subqueries = 0.
POST_LIKES_BY_SET = f"""
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

# The top authors: their posts of the period minus their deleted ones, and WITH TOTALS one
# more row whose posts_count is the period's live posts. Plain counts: `posts` and
# `post_deletions` hold one row per post (unique_posts.py). The deleted ones are counted
# from post_deletions (which carries the author) in the id range minus %(outside)s: no NOT
# IN over every post of the period (probing a year's million posts against a hundred
# thousand deletions cost half this query). The posts are taken by day alone (reading
# their ids too cost a third more). Exact if every deletion counted is of a post counted:
# the caller checks the total against LIKE_TOTALS' count of live posts in the id range,
# which also catches a post landing between the queries outside the range, and asks
# MOST_ACTIVE_USERS_BY_SET if they differ.
MOST_ACTIVE_USERS = f"""
SELECT author_id, sum(created - deleted) AS posts_count
FROM
(
    SELECT author_id, count() AS created FROM posts
    WHERE day >= %(start)s AND day <= %(end)s
    GROUP BY author_id
) AS created
ANY LEFT JOIN
(
    SELECT author_id, count() AS deleted FROM post_deletions
    WHERE {IN_PERIOD}
    GROUP BY author_id
) AS deleted USING author_id
GROUP BY author_id WITH TOTALS
HAVING posts_count > 0  -- an author whose posts of the period are all deleted is not listed
ORDER BY posts_count DESC, author_id ASC
LIMIT {MOST_ACTIVE_LIMIT}
"""

# The same keeping to the live posts by the set of deletions: right whatever the deletions.
MOST_ACTIVE_USERS_BY_SET = f"""
SELECT author_id, count() AS posts_count
FROM posts
WHERE day >= %(start)s AND day <= %(end)s AND {IN_PERIOD_RANGE}
  AND post_id NOT IN ({PERIOD_DELETIONS})
GROUP BY author_id WITH TOTALS
ORDER BY posts_count DESC, author_id ASC
LIMIT {MOST_ACTIVE_LIMIT}
"""

# The usernames of %(authors)s, from the payloads of their user.registered (`users`, ordered
# by user_id: a few granules), and for anyone without one (registered before the pipeline
# ran) from their posts of the period. Usernames never change (the users service has no
# rename), so both say the same; reading every post's username of a year cost ~25 ms.
REGISTERED_NAMES = """
SELECT user_id, any(username) FROM users WHERE user_id IN %(authors)s GROUP BY user_id
"""
AUTHOR_NAMES = """
SELECT author_id, any(author_username) FROM posts
PREWHERE author_id IN %(authors)s
WHERE day >= %(start)s AND day <= %(end)s
GROUP BY author_id
"""

# Title of the most liked post.
POST_TITLE = """
SELECT post_id, any(title) FROM posts
WHERE day >= %(start)s AND day <= %(end)s AND post_id = %(post_id)s
GROUP BY post_id
"""
# With no likes at all, the lowest live id wins the tie at zero.
FIRST_POST = f"""
SELECT post_id, title FROM posts
WHERE day >= %(start)s AND day <= %(end)s AND {IN_PERIOD_RANGE}
  AND post_id NOT IN ({PERIOD_DELETIONS})
ORDER BY post_id LIMIT 1
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


# ---- moderation (contract v2 section 8.3; tables of migration 0009) ----------------------
# Each report is counted once however many copies of its events are stored: by report_id.

# Reports open now: made and not resolved (any day).
OPEN_REPORTS = """
SELECT uniqExact(report_id) FROM reports
WHERE report_id NOT IN (SELECT report_id FROM report_resolutions)
"""
# Reports made, and reports resolved, per day of the period.
REPORTS_CREATED_PER_DAY = """
SELECT day, uniqExact(report_id) FROM reports
WHERE day >= %(start)s AND day <= %(end)s GROUP BY day
"""
REPORTS_RESOLVED_PER_DAY = """
SELECT day, uniqExact(report_id) FROM report_resolutions
WHERE day >= %(start)s AND day <= %(end)s GROUP BY day
"""
# Seconds from report to resolution of each report resolved in the period (one per report;
# the median is taken by the caller: ClickHouse's quantileExact picks one element, not the
# mean of the two middle ones).
RESOLVE_SECONDS = """
SELECT arraySort(groupArray(seconds)) FROM
(
    SELECT report_id, any(toInt64(occurred_at) - toInt64(reported_at)) AS seconds
    FROM report_resolutions
    WHERE day >= %(start)s AND day <= %(end)s
    GROUP BY report_id
)
"""
REMOVALS_LIMIT = 20
# Removals of posts and comments in the period by their exact reason, most first.
REMOVALS_BY_REASON = f"""
SELECT reason, uniqExact(event_id) AS n FROM removals
WHERE day >= %(start)s AND day <= %(end)s
GROUP BY reason
ORDER BY n DESC, reason ASC
LIMIT {REMOVALS_LIMIT}
"""

"""post_like_totals (migration 0006): per live post, its standing likes as a sum of changes,
so posts/stats adds up a period's likes with sum() instead of finding each post's latest
toggle (FINAL over post_likes: ~100 ms a million rows on one core, too slow for a year).

For each post toggled in a batch the pipeline writes one row: greatest(likes_count, 0) of
the batch's latest toggle minus the sum stored, if that toggle is newer than every toggle
of the post in post_likes (else nothing: a late copy of an older toggle). The sum stored
is therefore always the latest toggle's likes, whatever was delivered twice:
* a batch written twice: the second time the sum is already the latest's likes (change 0),
  or its toggles are already in post_likes (not newer);
* the sink writes this row before the batch's likes (which feed post_likes), so a failure
  between the two leaves the sum changed and the toggles unrecorded: the retry adds 0.
A deleted post's row takes its sums back to zero (minus what is stored: a copy of the
deletion adds nothing), so a period's sum needs no list of deletions. Its toggles are
deleted with it (the posts service), so no newer one follows.
The read-modify-write is race-free for the reason unique_posts.py gives: post events are
keyed by post_id, so one consumer at a time writes the rows of a post.

`known` is 1 once per post: from its post.created (a materialized view), or from here for
a like of a post whose post.created is not stored (posts are written before likes, so a
post created in the same batch is already there). posts/stats compares sum(known) with its
count of the period's live posts: equal, no such post (nor a deleted post created again)
sits in the period's id range.
"""
from analytics_pipeline.rows import COLUMNS
from analytics_pipeline.unique_posts import batch_posts

POST_ID = COLUMNS["likes"].index("post_id")
LIKES_COUNT = COLUMNS["likes"].index("likes_count")
OCCURRED_US = COLUMNS["likes"].index("occurred_us")

# The stored sums and latest toggle times of the batch's posts (both tables are ordered by
# post_id, and a batch's posts are mostly recent ones: a few granules).
STORED = """
SELECT post_id, sum(likes), sum(known), max(toggled_us)
FROM
(
    SELECT post_id, likes, known, toUInt64(0) AS toggled_us
    FROM post_like_totals WHERE post_id IN batch_posts
    UNION ALL
    SELECT post_id, toInt64(0) AS likes, toInt64(0) AS known, toggled_us
    FROM post_likes WHERE post_id IN batch_posts
)
GROUP BY post_id
"""


def like_total_rows(client, like_rows, deleted_ids=()):
    """Rows (post_id, likes, known) for post_like_totals from a batch's `likes` rows and the
    ids of the posts it deletes."""
    latest = {}  # post_id -> (occurred_us, likes_count) of the batch's latest toggle
    for row in like_rows:
        post_id, toggle = row[POST_ID], (row[OCCURRED_US], row[LIKES_COUNT])
        if post_id not in latest or toggle[0] > latest[post_id][0]:
            latest[post_id] = toggle
    deleted = set(deleted_ids)
    ids = sorted(set(latest) | deleted)
    if not ids:
        return []
    stored = {post_id: (likes, known, toggled_us) for post_id, likes, known, toggled_us
              in client.execute(STORED, {}, external_tables=batch_posts(ids))}
    out = []
    for post_id in ids:
        likes, known, toggled_us = stored.get(post_id, (0, 0, None))
        if post_id in deleted:
            change, first_seen = -likes, -known  # back to nothing
        else:
            occurred_us, likes_count = latest[post_id]
            if toggled_us is not None and occurred_us <= toggled_us:
                continue  # this toggle or a newer one is stored already
            change, first_seen = max(likes_count, 0) - likes, 0 if known else 1
        if change or first_seen:
            out.append((post_id, change, first_seen))
    return out

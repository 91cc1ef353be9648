from imageboard.avatars import author
from imageboard.media import image_url
from imageboard.timefmt import iso

# Contract decision 3: a bare field sorts ascending, "-" descending; ties newest first.
ORDERINGS = {
    "created_at": ("created_at", "asc"),
    "-created_at": ("created_at", "desc"),
    "likes_count": ("likes_count", "asc"),
    "-likes_count": ("likes_count", "desc"),
}
DEFAULT_ORDERING = "-created_at"


def iso_sql(column):
    """SQL giving exactly what imageboard.timefmt.iso gives for a timestamptz (ISO 8601 in
    UTC, "+00:00", microseconds only when there are any): the feed's times then arrive as
    text, and neither psycopg2 nor Python parses and formats 40 datetimes per page."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
            f"CASE WHEN date_trunc('second', {utc}) = {utc} THEN '' "
            f"ELSE to_char({utc}, '.US') END || '+00:00'")


# What a feed row shows, in the order feed_row reads them (the times already as text).
FEED_COLUMNS = ("id", "title", "content", "image", "author_id", "author_username", "author_avatar",
                iso_sql("created_at"), iso_sql("updated_at"), "edited", "likes_count",
                "comments_count")
# What a post detail adds after the likes: removal (contract v2 section 4.3).
REMOVAL_COLUMNS = ("removed", "removed_reason")


# The rules of a new post's title and content: contracts.schemas.posts.PostCreate. The
# shapes below follow the response models there (tests/unit/test_response_shapes.py).


def post_created(post, config):
    """POST /api/posts/ answer: author is the bare id, as the contract shows."""
    return {
        "id": post.id,
        "title": post.title,
        "content": post.content,
        "image_url": image_url(config, post.image),
        "author": post.author_id,
        "created_at": iso(post.created_at),
        "likes_count": post.likes_count,
    }


def feed_row(row, config):
    """One row of the feed, from the values of FEED_COLUMNS in order (the feed query
    selects them as plain tuples)."""
    (post_id, title, content, image, author_id, author_username, author_avatar, created_at,
     updated_at, edited, likes_count, comments_count) = row[:len(FEED_COLUMNS)]
    return {
        "id": post_id,
        "title": title,
        "content": content,
        "image_url": image_url(config, image),
        "author": author(config, author_id, author_username, author_avatar),
        "created_at": created_at,
        "updated_at": updated_at,
        "edited": edited,
        "likes_count": likes_count,
        "comments_count": comments_count,
    }


def post_detail(row, config, admin=False):
    """GET /api/posts/{id}/ from a row of FEED_COLUMNS followed by the likes (a list of
    {"user_id", "username"}, oldest first) and, if present, REMOVAL_COLUMNS. `removed` is
    always shown; `removed_reason` to admins only (contract v2 section 3.1)."""
    detail = feed_row(row, config)
    detail["likes"] = row[len(FEED_COLUMNS)]
    # The contract lists likes before the counters; keep that order for readers.
    for key in ("likes_count", "comments_count"):
        detail[key] = detail.pop(key)
    removal = row[len(FEED_COLUMNS) + 1:]
    removed, reason = (removal[0], removal[1]) if len(removal) >= 2 else (False, None)
    detail["removed"] = bool(removed)
    if admin:
        detail["removed_reason"] = reason
    return detail

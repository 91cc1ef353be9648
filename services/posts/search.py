"""Post search (contract v2 section 3.5) and cursor pages of the feed (section 3.6).

Kept apart from dependencies.py (the page-number feed, details, likes): a dependency of
its own, `PostsQueries`, on the same database as PostsDatabase.

Search: websearch_to_tsquery in SEARCH_CONFIG against posts.search_vector (title weight A,
content weight B, kept by a trigger, GIN index: migrations/0004_search.sql). Without an
ordering by rank, best first, ties newest first; with one, in that order.
"""
import logging

import psycopg2
from nameko.extensions import DependencyProvider

from contracts.errors import InvalidCursor, InvalidSearch
from imageboard.config import database_url
from imageboard.cursors import DIRECTIONS, check_key
from imageboard.db import connect_kwargs
from imageboard.keyset import Keyset
from imageboard.pagination import check_page
from imageboard.settings import settings_of
from services.posts.exceptions import InvalidOrdering
from services.posts.models import database
from services.posts.schemas import FEED_COLUMNS, ORDERINGS, feed_row

log = logging.getLogger(__name__)

MAX_SEARCH = 200  # characters (decision 27)

# Which posts a search may find: never a removed one (contract v2 section 3.5).
SEARCHABLE = "posts.search_vector @@ q.query AND NOT posts.removed"

_QUERY = "(SELECT websearch_to_tsquery(%(config)s::regconfig, %(search)s) AS query) AS q"
_RANK = "m_rank DESC, m_created DESC, m_id DESC"
_KEYS = {"created_at": "m_created", "likes_count": "m_likes"}


def _order(ordering):
    if ordering is None:
        return _RANK
    field, direction = ORDERINGS[ordering]
    order = [f"{_KEYS[field]} {direction.upper()}"]
    if field != "created_at":
        order.append("m_created DESC")
    return ", ".join(order + ["m_id DESC"])


def _search_sql(ordering):
    """The matches as narrow rows (id, the sort keys, the rank only when ranking), read
    once: counted, and sorted for the page, whose full rows alone are then joined (a
    window count over full rows made heavy queries three times slower)."""
    rank = "ts_rank(posts.search_vector, q.query)" if ordering is None else "0"
    return (f"WITH matches AS MATERIALIZED (SELECT posts.id AS m_id, posts.created_at AS m_created, "
            f"posts.likes_count AS m_likes, {rank} AS m_rank FROM posts, {_QUERY} "
            f"WHERE {SEARCHABLE}) "
            f"SELECT {', '.join(FEED_COLUMNS)}, (SELECT count(*) FROM matches) FROM "
            f"(SELECT * FROM matches ORDER BY {_order(ordering)} LIMIT %(limit)s OFFSET %(offset)s) AS page "
            f"JOIN posts ON posts.id = page.m_id ORDER BY {_order(ordering)}")


# Fixed statements, one per ordering (None: by rank); nothing from the request is SQL.
SEARCH_SQL = {ordering: _search_sql(ordering) for ordering in (None, *ORDERINGS)}
COUNT_SQL = f"SELECT count(*) FROM posts, {_QUERY} WHERE {SEARCHABLE}"

# The feed's keyset orders: created_at keeps the page mode's ties (newest first), and each
# reads the index of the same order (posts_created_desc, posts_created_asc).
# Removed posts are left out (contract v2 section 4.3).
FEED_PAGES = {
    "-created_at": Keyset(", ".join(FEED_COLUMNS), "posts", "NOT removed",
                          created_desc=True, id_desc=True),
    "created_at": Keyset(", ".join(FEED_COLUMNS), "posts", "NOT removed",
                         created_desc=False, id_desc=True),
}


def check_search(search):
    if not isinstance(search, str) or len(search) > MAX_SEARCH or "\x00" in search:
        raise InvalidSearch(fields={"search": f"must be text of at most {MAX_SEARCH} characters"})
    return search


def check_ordering(ordering, allowed):
    if ordering is not None and ordering not in allowed:
        raise InvalidOrdering(f"Unknown ordering {ordering!r}; use one of {', '.join(allowed)}",
                              fields={"ordering": "must be one of " + ", ".join(allowed)})


class PostsQueries:
    def __init__(self, db, config):
        self.db = db
        self.config = config
        self.search_config = settings_of(config).SEARCH_CONFIG

    def search(self, search, page=1, limit=20, ordering=None):
        """{"count", "results"}: the posts matching `search`, a page of them."""
        check_search(search)
        check_ordering(ordering, ORDERINGS)
        check_page(page, limit)
        params = {"config": self.search_config, "search": search, "limit": limit,
                  "offset": (page - 1) * limit}
        rows = self.db.execute_sql(SEARCH_SQL[ordering], params).fetchall()
        if not rows:  # no match, no searchable word, or past the last page
            return {"count": self.db.execute_sql(COUNT_SQL, params).fetchone()[0], "results": []}
        return {"count": rows[0][-1], "results": [feed_row(row, self.config) for row in rows]}

    def cursor_page(self, limit=20, ordering=None, direction="next", key=None):
        """{"results", "next", "previous"}: a keyset page of the feed; next/previous are
        (created_at, id) keys for the gateway's cursors, or None."""
        ordering = ordering or "-created_at"
        check_ordering(ordering, FEED_PAGES)
        check_page(1, limit)
        if direction not in DIRECTIONS:
            raise InvalidCursor()
        key = None if key is None else check_key(key)
        page = FEED_PAGES[ordering].page(self.db, limit, direction, key)
        return {"results": [feed_row(row, self.config) for row in page["rows"]],
                "next": page["next"], "previous": page["previous"]}


def sync_search_config(config):
    """Make the stored configuration SEARCH_CONFIG, re-computing every post's vector if it
    changed (one transaction under a lock: concurrent starts do it once). A name PostgreSQL
    does not know stops the service at start instead of failing every search."""
    wanted = settings_of(config).SEARCH_CONFIG
    name, kwargs = connect_kwargs(database_url(config, "posts"))
    conn = psycopg2.connect(dbname=name, **kwargs)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('posts_search_config') IS NOT NULL")
            if not cur.fetchone()[0]:
                log.warning("posts search not migrated yet; run imageboard migrate")
                return
            cur.execute("SELECT pg_advisory_xact_lock(7245103)")
            cur.execute("SELECT config::text, %s::regconfig::text FROM posts_search_config", (wanted,))
            stored, normalised = cur.fetchone()
            if stored != normalised:
                log.warning("search configuration changed; re-computing post vectors",
                            extra={"from": stored, "to": normalised})
                cur.execute("UPDATE posts_search_config SET config = %s::regconfig", (wanted,))
                cur.execute("UPDATE posts SET search_vector = "
                            "posts_search_vector(%s::regconfig, title, content)", (wanted,))
    finally:
        conn.close()


class PostsQueriesProvider(DependencyProvider):
    """Hands each worker a PostsQueries on the posts database (initialised by
    PostsDatabase, whose worker teardown returns the connection)."""

    def start(self):
        try:
            sync_search_config(self.container.config)
        except psycopg2.OperationalError as exc:
            # PostgreSQL down at start: the service still starts (requests get 503 until it
            # is back); the stored configuration is checked again at the next start.
            log.error("search configuration not checked", extra={"error": repr(exc)})

    def get_dependency(self, worker_ctx):
        return PostsQueries(database, self.container.config)

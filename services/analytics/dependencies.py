"""ClickHouse access for the analytics service.

clickhouse-driver is pure Python over the socket module, which `nameko run` has
monkey-patched: its waits are green, so the hub serves other workers while ClickHouse
computes (the answers are a few aggregate rows: no CPU worth a thread). Running it in
eventlet's tpool instead deadlocked the service when ClickHouse went away: the driver logs
from the native thread, and logging's locks are green ones (found by the fault test
tests/faults/test_clickhouse_down.py).

Timeouts stay below the gateway's RPC_TIMEOUT, so an unreachable or hung ClickHouse is a
503 from here, not a 504 from the gateway.
"""
import logging
import statistics
from datetime import date, timedelta

import eventlet
from eventlet.queue import LightQueue
from nameko.extensions import DependencyProvider

from analytics_store.client import UNAVAILABLE_ERRORS, make_client
from services.analytics import queries
from services.analytics.exceptions import AnalyticsUnavailable
from imageboard.settings import settings_of

log = logging.getLogger(__name__)
TIMELINE_DAYS = 30
# ClickHouse's Date range: outside it 18.16 silently reads a date as 1970-01-01.
STORED_DAYS = (date(1970, 1, 1), date(2105, 12, 31))


class ClientPool:
    def __init__(self, factory, size):
        self.clients = LightQueue()
        for _ in range(size):
            self.clients.put(factory())

    def execute(self, sql, params):
        client = self.clients.get()
        try:
            return client.execute(sql, params)
        except UNAVAILABLE_ERRORS as exc:
            log.error("clickhouse unavailable", extra={"error": repr(exc)})
            client.disconnect()
            raise AnalyticsUnavailable()
        finally:
            self.clients.put(client)

    def run_parallel(self, *calls):
        """Runs the callables side by side (each query on its own client: ClickHouse works
        on them in parallel); their results in order."""
        pool = eventlet.GreenPool(len(calls))
        return list(pool.imap(lambda call: call(), calls))

    def close(self):
        while not self.clients.empty():
            self.clients.get().disconnect()


def posts_stats_answer(start, end, total_posts, active, total_likes, best):
    """The body of GET /api/analytics/posts/stats/ from what the queries found: active is
    [(user_id, username, posts_count)], best the most liked post's dict or None."""
    return {
        "period": {"start_date": start.isoformat(), "end_date": end.isoformat()},
        "total_posts": total_posts,
        "posts_per_day": total_posts / ((end - start).days + 1),
        "most_active_users": [
            {"user_id": user_id, "username": username, "posts_count": count}
            for user_id, username, count in active
        ],
        "likes_statistics": {
            "total_likes": int(total_likes),
            "avg_likes_per_post": total_likes / total_posts if total_posts else 0.0,
            "most_liked_post": best,
        },
    }


class AnalyticsStore:
    def __init__(self, pool):
        self.pool = pool

    def posts_stats(self, start, end):
        # Both ends clamped into the stored range (a period wholly before 1970 must not reach
        # ClickHouse: it formats year 474 as '474-06-01' and fails to parse it).
        params = {"start": min(max(start, STORED_DAYS[0]), STORED_DAYS[1]),
                  "end": max(min(end, STORED_DAYS[1]), STORED_DAYS[0])}
        if self.period_ids(params):
            authors, likes, (most_liked, most_likes) = self.pool.run_parallel(
                lambda: self.most_active(params),
                lambda: self.pool.execute(queries.LIKE_TOTALS, params)[0],
                lambda: self.most_liked(params))
            active, total_posts = authors
            posts_with_totals, total_likes = likes
            if posts_with_totals != total_posts:
                # In the id range, a post liked or deleted without its post.created stored,
                # or a post landing between the queries: keep to the posts by their ids.
                (active, total_posts), (total_likes, most_liked, most_likes) = \
                    self.pool.run_parallel(
                        lambda: self.most_active(params, queries.MOST_ACTIVE_USERS_BY_SET),
                        lambda: self.pool.execute(queries.POST_LIKES_BY_SET, params)[0])
        else:  # no post created in the period: nothing else to ask
            active, total_posts, total_likes, most_likes = [], 0, 0, 0
        best = None
        if total_posts:
            if most_likes > 0:
                rows = self.pool.execute(queries.POST_TITLE, dict(params, post_id=most_liked))
            else:
                rows = self.pool.execute(queries.FIRST_POST, params)
            post_id, title = rows[0]
            best = {"post_id": post_id, "title": title, "likes_count": int(max(most_likes, 0))}
        return posts_stats_answer(start, end, total_posts, active, total_likes, best)

    def period_ids(self, params):
        """Sets low/high (the period's id range) and outside (posts in that range created
        on other days) in params; False if the period has no posts."""
        days = self.pool.execute(queries.DAY_ID_RANGES, {})
        inside = [(low, high) for day, low, high in days if params["start"] <= day <= params["end"]]
        if not inside:
            return False
        params["low"] = min(low for low, _ in inside)
        params["high"] = max(high for _, high in inside)
        others = tuple(day for day, low, high in days
                       if not params["start"] <= day <= params["end"]
                       and low <= params["high"] and high >= params["low"])
        params["outside"] = queries.NO_POSTS
        if others:
            outside = self.pool.execute(queries.OUTSIDE_PERIOD, dict(params, days=others))
            params["outside"] = tuple(post_id for (post_id,) in outside) or queries.NO_POSTS
        return True

    def most_active(self, params, sql=queries.MOST_ACTIVE_USERS):
        """([(user_id, username, posts)] of the top authors, the period's live posts)."""
        *top, totals = self.pool.execute(sql, params)
        authors = tuple(author for author, _ in top)
        names = dict(self.pool.execute(queries.REGISTERED_NAMES, dict(params, authors=authors))
                     if authors else ())
        unnamed = tuple(author for author in authors if author not in names)
        if unnamed:
            names.update(self.pool.execute(queries.AUTHOR_NAMES, dict(params, authors=unnamed)))
        return [(author, names[author], count) for author, count in top], totals[1]

    def most_liked(self, params):
        """(post_id, likes) of the period's most liked live post, ties to the lowest id;
        likes 0 when none has any (queries.TOP_TOGGLES says why this is exact)."""
        top = self.pool.execute(queries.TOP_TOGGLES, params)
        most_liked, most_likes = 0, 0
        if top:
            candidates = tuple(sorted({post_id for post_id, _ in top}))
            most_liked, most_likes = self.pool.execute(
                queries.CURRENT_LIKES, dict(params, candidates=candidates))[0]
        if len(top) == queries.TOP_TOGGLES_LIMIT and most_likes <= top[-1][1]:
            # A post outside the top rows may still reach the best found: compare every
            # post with a row at least that high.
            most_liked, most_likes = self.pool.execute(
                queries.LIKES_AT_LEAST, dict(params, threshold=max(most_likes, 1)))[0]
        return most_liked, most_likes

    def moderation_stats(self, days, today):
        start = today - timedelta(days=days - 1)
        params = {"start": start, "end": today}
        (opened,), created, resolved, (seconds,), removals = self.pool.run_parallel(
            lambda: self.pool.execute(queries.OPEN_REPORTS, {})[0],
            lambda: dict(self.pool.execute(queries.REPORTS_CREATED_PER_DAY, params)),
            lambda: dict(self.pool.execute(queries.REPORTS_RESOLVED_PER_DAY, params)),
            lambda: self.pool.execute(queries.RESOLVE_SECONDS, params)[0],
            lambda: self.pool.execute(queries.REMOVALS_BY_REASON, params))
        period = [start + timedelta(days=i) for i in range(days)]
        return {
            "period": {"start_date": start.isoformat(), "end_date": today.isoformat()},
            "open_reports": opened,
            "reports_per_day": [{"date": day.isoformat(), "created": created.get(day, 0),
                                 "resolved": resolved.get(day, 0)} for day in period],
            "median_time_to_resolve_seconds":
                float(statistics.median(seconds)) if seconds else None,
            "removals_by_reason": [{"reason": reason, "count": count}
                                   for reason, count in removals],
        }

    def user_registered(self, user_id):
        return self.pool.execute(queries.USER_REGISTERED, {"user_id": user_id})[0][0] > 0

    def user_activity(self, user_id, today):
        since = today - timedelta(days=TIMELINE_DAYS - 1)
        rows = self.pool.execute(queries.USER_ACTIVITY,
                                 {"user_id": user_id, "since": since, "until": today})
        timeline = {since + timedelta(days=i): {"posts": 0, "comments": 0, "likes": 0}
                    for i in range(TIMELINE_DAYS)}
        for action, day, count in rows:
            timeline[day][{"post": "posts", "comment": "comments", "like": "likes"}[action]] = count
        entries = [dict(date=day.isoformat(), **counts) for day, counts in sorted(timeline.items())]
        return {
            "user_id": user_id,
            "period": "last_30_days",
            "posts_created": sum(e["posts"] for e in entries),
            "comments_written": sum(e["comments"] for e in entries),
            "likes_given": sum(e["likes"] for e in entries),
            "activity_timeline": entries,
        }


class AnalyticsClickHouse(DependencyProvider):
    store = "clickhouse"  # what `imageboard migrate` brings up to date for this service

    def setup(self):
        config = self.container.config
        size = settings_of(config).max_workers
        # Clients connect lazily, on their first query: the service starts without ClickHouse.
        budget = max(1.0, settings_of(config).RPC_TIMEOUT - 1.0)
        self.pool = ClientPool(lambda: make_client(config, connect_timeout=1,
                                                   send_receive_timeout=budget,
                                                   sync_request_timeout=1), size)

    def get_dependency(self, worker_ctx):
        return AnalyticsStore(self.pool)

    def stop(self):
        self.pool.close()

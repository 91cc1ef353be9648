"""What the analytics endpoints must answer, computed in plain Python from the actions a test
performed — independently of the pipeline, the SQL and the service.

Rules (docs/analytics.md): current state counts. A deleted post, its likes and its
comments do not count; a like counts if it still stands, on the day it was last given.
"""
from datetime import timedelta


def rounded(value, digits=9):
    """Floats rounded everywhere in a JSON-like value, so answers compare with ==."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v, digits) for v in value]
    return value


class Truth:
    def __init__(self):
        self.posts = {}     # post_id -> dict(author_id, username, title, day, deleted)
        self.likes = {}     # (post_id, user_id) -> day of the standing like, or None
        self.comments = []  # (post_id, author_id, day)

    # -- recording --------------------------------------------------------------------
    def post(self, post_id, author_id, username, title, day):
        self.posts[post_id] = dict(author_id=author_id, username=username, title=title,
                                   day=day, deleted=False)

    def delete(self, post_id):
        self.posts[post_id]["deleted"] = True

    def toggle_like(self, post_id, user_id, day):
        """Returns True if the toggle liked the post, False if it removed the like."""
        liked = self.likes.get((post_id, user_id)) is None
        self.likes[(post_id, user_id)] = day if liked else None
        return liked

    def likes_count(self, post_id):
        return sum(1 for (p, _), day in self.likes.items() if p == post_id and day is not None)

    def comment(self, post_id, author_id, day):
        self.comments.append((post_id, author_id, day))

    def _alive(self, post_id):
        return post_id in self.posts and not self.posts[post_id]["deleted"]

    # -- expected answers ---------------------------------------------------------------
    def live_posts(self):
        """[(post_id, author_id, username, title, day, likes)] of the posts that exist."""
        return [(pid, p["author_id"], p["username"], p["title"], p["day"], self.likes_count(pid))
                for pid, p in self.posts.items() if not p["deleted"]]

    def post_stats(self, start, end, top=10):
        return post_stats(self.live_posts(), start, end, top)

    def user_activity(self, user_id, today):
        since = today - timedelta(days=29)
        days = {since + timedelta(days=i): {"posts": 0, "comments": 0, "likes": 0}
                for i in range(30)}
        for pid, p in self.posts.items():
            if p["author_id"] == user_id and not p["deleted"] and p["day"] in days:
                days[p["day"]]["posts"] += 1
        for pid, author, day in self.comments:
            if author == user_id and self._alive(pid) and day in days:
                days[day]["comments"] += 1
        for (pid, uid), day in self.likes.items():
            if uid == user_id and day is not None and self._alive(pid) and day in days:
                days[day]["likes"] += 1
        timeline = [dict(date=d.isoformat(), **c) for d, c in sorted(days.items())]
        return {
            "user_id": user_id,
            "period": "last_30_days",
            "posts_created": sum(e["posts"] for e in timeline),
            "comments_written": sum(e["comments"] for e in timeline),
            "likes_given": sum(e["likes"] for e in timeline),
            "activity_timeline": timeline,
        }


def post_stats(posts, start, end, top=10):
    """The posts/stats answer for live posts [(post_id, author_id, username, title, day, likes)]."""
    chosen = {pid: (author, name, title, likes)
              for pid, author, name, title, day, likes in posts if start <= day <= end}
    authors = {}
    for author, name, _, _ in chosen.values():
        entry = authors.setdefault(author, [name, 0])
        entry[1] += 1
    ranked = sorted(authors.items(), key=lambda item: (-item[1][1], item[0]))[:top]
    total_likes = sum(p[3] for p in chosen.values())
    best = min(chosen, key=lambda pid: (-chosen[pid][3], pid)) if chosen else None
    days = (end - start).days + 1
    return {
        "period": {"start_date": start.isoformat(), "end_date": end.isoformat()},
        "total_posts": len(chosen),
        "posts_per_day": len(chosen) / days,
        "most_active_users": [{"user_id": uid, "username": name, "posts_count": n}
                              for uid, (name, n) in ranked],
        "likes_statistics": {
            "total_likes": total_likes,
            "avg_likes_per_post": total_likes / len(chosen) if chosen else 0.0,
            "most_liked_post": {"post_id": best, "title": chosen[best][2],
                                "likes_count": chosen[best][3]} if chosen else None,
        },
    }

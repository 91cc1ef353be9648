"""Synthetic domain events for tests (several days of history) and the pipeline benchmark
(analytics-pipeline/bench/bench_pipeline.py), with chosen occurred_at times. Every event is
built through the event catalogue (contracts/events.py): a payload model, validated as
consumers read it; functions return the envelope as a plain dict, which tests may break on
purpose before encode().
"""
import json
import random
from datetime import datetime, time, timedelta, timezone

from contracts import events as ev

TOPICS = ev.CATALOGUE.topics()

def _event(payload, key, actor_id, occurred_at):
    return ev.as_dict(ev.new_event(payload, key, actor_id, occurred_at=occurred_at))


def envelope(event_type, key, actor_id, payload, occurred_at):
    """Any catalogue type from a payload dict (validated: InvalidEvent if it does not fit)."""
    return _event(ev.payload_from_dict(event_type, payload), key, actor_id, occurred_at)


def at(day, seconds=43200):
    """A UTC datetime on `day` (a date), `seconds` after midnight."""
    return datetime.combine(day, time(), tzinfo=timezone.utc) + timedelta(seconds=seconds)


def user_registered(user_id, username, when):
    return _event(ev.UserRegistered(user_id=user_id, username=username), user_id, user_id, when)


def post_created(post_id, author_id, username, title, when, has_image=False):
    return _event(ev.PostCreated(post_id=post_id, author_id=author_id, author_username=username,
                                 title=title, has_image=has_image), post_id, author_id, when)


def post_deleted(post_id, author_id, title, deleted_by, when):
    return _event(ev.PostDeleted(post_id=post_id, author_id=author_id, title=title,
                                 deleted_by=deleted_by), post_id, deleted_by, when)


def post_like(liked, post_id, post_author_id, post_title, user_id, username, likes_count, when):
    model = ev.PostLiked if liked else ev.PostUnliked
    return _event(model(post_id=post_id, post_author_id=post_author_id, post_title=post_title,
                        user_id=user_id, username=username, likes_count=likes_count),
                  post_id, user_id, when)


def comment_created(comment_id, post_id, post_author_id, post_title, author_id, username,
                    when, parent_id=None, parent_author_id=None):
    return _event(ev.CommentCreated(comment_id=comment_id, post_id=post_id,
                                    post_author_id=post_author_id, post_title=post_title,
                                    parent_id=parent_id, parent_author_id=parent_author_id,
                                    author_id=author_id, author_username=username),
                  post_id, author_id, when)


def encode(event):
    """(topic without prefix, key bytes, value bytes) as the outbox relay publishes it."""
    return TOPICS[event["type"]], event["key"].encode(), json.dumps(event).encode()


class RandomWorld:
    """A plausible random stream for the benchmark: users register, write posts, like and
    unlike recent posts (a toggle, as the API does), comment, now and then delete a post.
    Mix (by events): ~10% posts, ~72% likes or unlikes, ~15% comments, ~1% deletes, ~2%
    registrations. Only the last 1,000-2,000 posts get new likes, which bounds memory."""

    def __init__(self, users=10000, start=None, days=365, seed=1):
        self.rand = random.Random(seed)
        self.users = users
        self.start = start or (datetime.now(timezone.utc) - timedelta(days=days))
        self.span = timedelta(days=days).total_seconds()
        self.next_post = 1
        self.next_comment = 1
        self.liked = {}      # post_id -> users whose like stands
        self.likes = {}      # post_id -> likes_count
        self.posts = []      # recent posts: (post_id, author_id, title)

    def username(self, user_id):
        return f"user{user_id}"

    def events(self, n, start_fraction=0.0, end_fraction=1.0):
        """n events with occurred_at spread evenly over [start, start+days] * fractions."""
        rand, step = self.rand, (end_fraction - start_fraction) / max(n, 1)
        for i in range(n):
            when = self.start + timedelta(seconds=self.span * (start_fraction + i * step))
            roll = rand.random()
            if not self.posts or roll < 0.10:
                yield self._post(when)
            elif roll < 0.82:
                yield self._toggle_like(when)
            elif roll < 0.97:
                yield self._comment(when)
            elif roll < 0.98:
                yield self._delete(when)
            else:
                user = rand.randint(1, self.users)
                yield user_registered(user, self.username(user), when)

    def _post(self, when):
        post_id, author = self.next_post, self.rand.randint(1, self.users)
        self.next_post += 1
        title = f"post {post_id}"
        self.posts.append((post_id, author, title))
        if len(self.posts) > 2000:
            for old, _, _ in self.posts[:-1000]:
                self.liked.pop(old, None)
                self.likes.pop(old, None)
            self.posts = self.posts[-1000:]
        return post_created(post_id, author, self.username(author), title, when)

    def _toggle_like(self, when):
        post_id, author, title = self.rand.choice(self.posts)
        # A small circle of likers per post, so unlikes (toggles) really happen.
        user = (post_id * 7 + self.rand.randint(0, 40)) % self.users + 1
        fans = self.liked.setdefault(post_id, set())
        liked = user not in fans
        if liked:
            fans.add(user)
        else:
            fans.discard(user)
        self.likes[post_id] = self.likes.get(post_id, 0) + (1 if liked else -1)
        return post_like(liked, post_id, author, title, user, self.username(user),
                         self.likes[post_id], when)

    def _comment(self, when):
        post_id, author, title = self.rand.choice(self.posts)
        user = self.rand.randint(1, self.users)
        comment_id, self.next_comment = self.next_comment, self.next_comment + 1
        return comment_created(comment_id, post_id, author, title, user, self.username(user), when)

    def _delete(self, when):
        index = self.rand.randrange(len(self.posts))
        post_id, author, title = self.posts.pop(index)
        if not self.posts:
            self.posts.append((post_id, author, title))
            return self._post(when)
        return post_deleted(post_id, author, title, author, when)

"""Per-user rate limits (contract v2 section 3.4, decision 26).

One fixed window per user and kind of request, counted in Redis so every gateway process
on every host shares it (why Redis: docs/architecture.md, "Per-user rate limits"). A
limited request costs one Redis round trip: INCR of the window's key and EXPIRE NX in one
MULTI/EXEC, keyed by the window (`<DB_PREFIX>:ratelimit:<kind>:<user>:<seconds>:<start>`),
so a new window is a new key and an old one expires by itself.

Where it runs (the check order of section 3.2): RateLimitMiddleware.process_resource, after
AuthMiddleware (401) and after the ban and admin checks (403), which must come before it
in create_app's middleware list; a route's own checks (404 of the object, 400/422 of the
body) run later in the responder. So every authenticated, non-banned request to a limited
route counts, whatever its result, admins too, and past the limit the responder is never
called: 429, nothing done. Anonymous requests are not counted: the responder answers 401.

Redis unreachable: the request passes unlimited and without the X-RateLimit headers (fail
open, as Mastodon's rack-attack does). Every request passed so is counted in
imageboard_rate_limit_store_errors_total; each failed attempt logs a warning, after which
the process leaves Redis alone for STORE_RETRY_SECONDS, so a dead Redis costs no timeout
per request (and at most one log line per second per process).
"""
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import redis

from contracts.errors import RateLimited
from gateway.metrics import route_label
from imageboard import metrics
from imageboard.settings import settings_of

log = logging.getLogger(__name__)

STORE_TIMEOUT = 0.25      # seconds for one Redis connect or reply before failing open
STORE_RETRY_SECONDS = 1.0  # after a failure, this process passes requests without asking


@dataclass(frozen=True)
class Rule:
    """One limited request: `route` is the route template as gateway/metrics.route_label
    writes it (no trailing slash, converters dropped), `setting` its limit's setting."""

    kind: str
    method: str
    route: str
    setting: str


# The one table of limited requests. A rule whose route is not served yet (reports come
# with the moderation service) applies as soon as the route is added to create_app.
RULES = (
    Rule("post_create", "POST", "/api/posts", "RATE_LIMIT_POST_CREATE"),
    Rule("comment_create", "POST", "/api/comments", "RATE_LIMIT_COMMENT_CREATE"),
    Rule("like", "POST", "/api/posts/{post_id}/like", "RATE_LIMIT_LIKE"),
    Rule("report", "POST", "/api/reports", "RATE_LIMIT_REPORT"),
    Rule("export", "GET", "/api/users/me/export", "RATE_LIMIT_EXPORT"),
)


@dataclass(frozen=True)
class Decision:
    limit: int
    remaining: int     # left after this request
    reset_at: float    # end of the window (epoch seconds)
    retry_after: int   # whole seconds until then, at least 1
    allowed: bool

    def headers(self):
        reset = datetime.fromtimestamp(self.reset_at, timezone.utc).isoformat()
        headers = {"X-RateLimit-Limit": str(self.limit),
                   "X-RateLimit-Remaining": str(self.remaining),
                   "X-RateLimit-Reset": reset}
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def window_start(now, seconds):
    """Windows are aligned to the epoch (rack-attack's `now / period`): every process
    computes the same key for the same moment."""
    return int(now // seconds) * seconds


def decide(count, limit, start, now):
    """The answer for the `count`-th request of the window that began at `start`."""
    reset_at = start + limit.seconds
    return Decision(limit=limit.count, remaining=max(0, limit.count - count), reset_at=reset_at,
                    retry_after=max(1, math.ceil(reset_at - now)), allowed=count <= limit.count)


def key_prefix(settings):
    """Every key of this deployment starts with it (DB_PREFIX names the deployment, as it
    names its databases), so two deployments can share one Redis."""
    return f"{settings.DB_PREFIX}:ratelimit:"


class RedisCounter:
    """incr(key, ttl) -> the key's new value, in one round trip; the key expires ttl
    seconds after its first increment."""

    def __init__(self, url):
        # Thread-safe; its pool notices a fork (gunicorn workers) and reconnects.
        self.client = redis.Redis.from_url(url, socket_timeout=STORE_TIMEOUT,
                                           socket_connect_timeout=STORE_TIMEOUT)

    def incr(self, key, ttl):
        pipe = self.client.pipeline(transaction=True)  # MULTI INCR EXPIRE NX EXEC
        pipe.incr(key)
        pipe.expire(key, ttl, nx=True)
        return pipe.execute()[0]


class Limiter:
    def __init__(self, counter, prefix, clock=time.time):
        self.counter = counter
        self.prefix = prefix
        self.clock = clock
        self._lock = threading.Lock()
        self._skip_until = 0.0

    def hit(self, kind, limit, user_id):
        """Count one request; its Decision, or None when the store cannot be reached."""
        now = self.clock()
        if now < self._skip_until:
            metrics.RATE_LIMIT_STORE_ERRORS.inc()
            return None
        start = window_start(now, limit.seconds)
        key = f"{self.prefix}{kind}:{user_id}:{limit.seconds}:{start}"
        try:
            # +1 s: a window's key outlives it a little, whatever the clocks of the hosts.
            count = self.counter.incr(key, limit.seconds + 1)
        except (redis.RedisError, OSError) as exc:
            metrics.RATE_LIMIT_STORE_ERRORS.inc()
            with self._lock:
                self._skip_until = now + STORE_RETRY_SECONDS
            log.warning("rate-limit store unreachable: requests pass unlimited",
                        extra={"error": repr(exc), "retry_in_seconds": STORE_RETRY_SECONDS})
            return None
        return decide(count, limit, start, now)


class RateLimitMiddleware:
    """Applies RULES; must come after AuthMiddleware and the ban/admin checks."""

    def __init__(self, config, limiter=None):
        settings = settings_of(config)
        self.rules = {(rule.method, rule.route): (rule, getattr(settings, rule.setting))
                      for rule in RULES if getattr(settings, rule.setting) is not None}
        self.limiter = limiter or Limiter(RedisCounter(settings.REDIS_URL), key_prefix(settings))

    def process_resource(self, req, resp, resource, params):
        user = getattr(req.context, "user", None)
        if user is None or not self.rules:
            return
        found = self.rules.get((req.method, route_label(req)))
        if found is None:
            return
        rule, limit = found
        decision = self.limiter.hit(rule.kind, limit, user.id)
        if decision is None:
            return
        req.context.rate_limit = decision
        if not decision.allowed:
            metrics.RATE_LIMITED.labels(rule.kind).inc()
            raise RateLimited(f"Too many requests: at most {limit.count} per {limit.seconds} s;"
                              f" try again in {decision.retry_after} s")

    def process_response(self, req, resp, resource, req_succeeded):
        decision = getattr(req.context, "rate_limit", None)
        if decision is not None:  # success or error alike
            for name, value in decision.headers().items():
                resp.set_header(name, value)

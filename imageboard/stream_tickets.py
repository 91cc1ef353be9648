"""Stream tickets and connection counts in Redis (contract v2 section 7).

EventSource cannot send an Authorization header, so `POST /api/stream/ticket/` (the
gateway) trades the caller's JWT for an opaque ticket: the token's claims stored under
`<DB_PREFIX>:stream:ticket:<ticket>` for SSE_TICKET_SECONDS. The stream process takes it
with GETDEL: one atomic read-and-delete, so a ticket is good once, on whichever process
gets it first; an expired one is simply gone. The claims are checked again against the
access state when the stream opens (a token revoked since gives token_revoked).

Connection counts (per user when authenticated, per IP when anonymous, over every stream
process) are a sorted set per subject: member = connection id, score = when the entry
lapses unless refreshed (each heartbeat refreshes it), so a killed process's connections
stop counting by themselves.
"""
import json
import secrets
import time

import redis

from imageboard.settings import settings_of

TIMEOUT = 0.5  # seconds: Redis answers in well under a millisecond here


class TicketStoreUnavailable(RuntimeError):
    pass


def prefix(config):
    return f"{settings_of(config).DB_PREFIX}:stream"


def client(config):
    return redis.Redis.from_url(settings_of(config).REDIS_URL, socket_timeout=TIMEOUT,
                                socket_connect_timeout=TIMEOUT)


class Tickets:
    def __init__(self, config, redis_client=None):
        self.prefix = prefix(config)
        self.seconds = settings_of(config).SSE_TICKET_SECONDS
        self.redis = redis_client or client(config)

    def issue(self, claims):
        """A new ticket for these token claims (no email, password or token in them)."""
        ticket = secrets.token_urlsafe(32)  # 43 characters
        kept = {k: claims[k] for k in ("user_id", "username", "jti", "ver", "exp", "iat", "sub")
                if k in claims}
        try:
            self.redis.set(f"{self.prefix}:ticket:{ticket}", json.dumps(kept), ex=self.seconds)
        except (redis.RedisError, OSError) as exc:
            raise TicketStoreUnavailable(str(exc)) from exc
        return {"ticket": ticket, "expires_in": self.seconds}

    def consume(self, ticket):
        """The claims of a ticket, once; None if unknown, used or expired."""
        if not ticket or len(ticket) > 128:
            return None
        try:
            raw = self.redis.getdel(f"{self.prefix}:ticket:{ticket}")
        except (redis.RedisError, OSError) as exc:
            raise TicketStoreUnavailable(str(exc)) from exc
        return None if raw is None else json.loads(raw)


class ConnectionSlots:
    """take(subject, conn_id, limit) -> bool; refresh(); release()."""

    def __init__(self, config, redis_client=None, lapse_seconds=None):
        settings = settings_of(config)
        self.prefix = prefix(config)
        self.lapse = lapse_seconds or 2 * settings.SSE_HEARTBEAT_SECONDS + 5
        self.redis = redis_client or client(config)

    def _key(self, subject):
        return f"{self.prefix}:conns:{subject}"

    def take(self, subject, conn_id, limit):
        key, now = self._key(subject), time.time()
        try:
            pipe = self.redis.pipeline()
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zadd(key, {conn_id: now + self.lapse})
            pipe.zcard(key)
            pipe.expire(key, int(self.lapse) + 1)
            _, _, count, _ = pipe.execute()
            if count > limit:
                self.redis.zrem(key, conn_id)
                return False
            return True
        except (redis.RedisError, OSError) as exc:
            raise TicketStoreUnavailable(str(exc)) from exc

    def refresh(self, subjects_and_ids):
        """Re-arm the lapse of many connections in one round trip; errors are ignored."""
        if not subjects_and_ids:
            return
        until = time.time() + self.lapse
        try:
            pipe = self.redis.pipeline(transaction=False)
            for subject, conn_id in subjects_and_ids:
                pipe.zadd(self._key(subject), {conn_id: until}, xx=True)
                pipe.expire(self._key(subject), int(self.lapse) + 1)
            pipe.execute()
        except (redis.RedisError, OSError):
            pass

    def release(self, subject, conn_id):
        try:
            self.redis.zrem(self._key(subject), conn_id)
        except (redis.RedisError, OSError):
            pass

"""The stream process's HTTP side: GET /api/stream/, /health, /ready, /metrics.

Checks before the stream starts answer JSON (contract v2 sections 3.2 and 7), in this
order: the stream names (400 invalid_stream / too_many_streams: before the ticket is
taken, so a typo does not burn it), the credentials (401 invalid_ticket, invalid_token,
token_revoked; not_authenticated for `user`/`moderation` without any), 403
admin_required, 503 while the process is not ready, 429 too_many_connections, 404
post_not_found.
"""
import asyncio
import json
import logging
import re
import time
import uuid

import falcon
import falcon.asgi
from falcon.asgi import SSEvent
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contracts import errors
from imageboard import metrics
from imageboard.settings import settings_of
from imageboard.stream_tickets import TicketStoreUnavailable
from imageboard.tokens import InvalidToken, verify_token
from streaming.hub import kind_of

log = logging.getLogger(__name__)

_POST = re.compile(r"^post:([1-9]\d{0,17})$")
NAMES = {"public", "user", "moderation"}
POST_EXISTS_TTL = 5.0


def parse_streams(value, limit):
    """The comma list -> stream names in order, repeats once; InvalidStream/TooManyStreams."""
    if isinstance(value, list):
        value = ",".join(value)
    if not value or not value.strip():
        raise errors.InvalidStream("streams is missing or empty")
    names = []
    for raw in value.split(","):
        name = raw.strip()
        if name not in NAMES and not _POST.match(name):
            raise errors.InvalidStream(f"Unknown stream {name[:40]!r}")
        if name not in names:
            names.append(name)
    if len(names) > limit:
        raise errors.TooManyStreams(f"At most {limit} streams in one connection")
    return names


def encode_json(data):
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


class Metrics:
    """The hub's hooks into Prometheus (children cached: labels() takes a lock)."""

    def __init__(self):
        self.open = {kind: metrics.STREAM_CONNECTIONS.labels(kind)
                     for kind in ("public", "post", "user", "moderation")}
        self._delivered = {}

    def opened(self, connection):
        for key in connection.keys:
            self.open[kind_of(key)].inc()

    def closed(self, connection):
        for key in connection.keys:
            self.open[kind_of(key)].dec()

    def dropped(self, connection):
        metrics.STREAM_DROPPED.labels("overflow").inc(len(connection.queue) + 1)
        metrics.STREAM_CLIENTS_CLOSED.labels("overflow").inc()
        if connection.task is not None:
            connection.task.cancel()  # it may be stuck writing to a full socket

    def delivered(self, item):
        counter = self._delivered.get(item.name)
        if counter is None:
            counter = self._delivered[item.name] = metrics.STREAM_DELIVERED.labels(item.name)
        counter.inc()
        metrics.STREAM_LAG.observe(max(0.0, time.time() - item.occurred_at))


def error_handler(req, resp, exc, params):
    status = {errors.BadRequest: 400, errors.Unauthorized: 401, errors.Forbidden: 403,
              errors.NotFound: 404, errors.RateLimited: 429, errors.ServiceUnavailable: 503}
    resp.status = next((code for cls, code in status.items() if isinstance(exc, cls)), 500)
    resp.media = {"error": {"code": exc.code, "message": exc.message}}
    if isinstance(exc, errors.Unauthorized):
        resp.set_header("WWW-Authenticate", 'Bearer realm="imageboard"')
    if isinstance(exc, (errors.RateLimited, errors.ServiceUnavailable)):
        resp.set_header("Retry-After", str(getattr(exc, "retry_after", 5)))


async def http_error_handler(req, resp, exc, params):
    resp.status = exc.status
    code = "_".join(w for w in (exc.title or "error").lower().split() if not w.isdigit())
    resp.media = {"error": {"code": code or "error", "message": exc.description or exc.title}}


async def domain_error_handler(req, resp, exc, params):
    error_handler(req, resp, exc, params)


async def unexpected_error_handler(req, resp, exc, params):
    """A bug: logged with its traceback; the client gets the JSON 500, never HTML."""
    log.exception("stream: unhandled error", extra={"path": req.path})
    resp.status = falcon.HTTP_500
    resp.media = {"error": {"code": "internal_error", "message": "Internal server error"}}


class StreamResource:
    def __init__(self, runtime):
        self.rt = runtime
        settings = settings_of(runtime.config)
        self.secret = runtime.config["JWT_SECRET"]
        self.max_streams = settings.SSE_MAX_STREAMS
        self.per_user = settings.SSE_MAX_CONNECTIONS_PER_USER
        self.per_ip = settings.SSE_MAX_CONNECTIONS_PER_IP
        self.buffer = settings.SSE_CONNECTION_BUFFER
        self.heartbeat = settings.SSE_HEARTBEAT_SECONDS
        self._exists = {}  # post id -> (exists, checked at)

    async def _claims(self, req):
        ticket = req.get_param("ticket")
        if ticket is not None:
            try:
                claims = await asyncio.to_thread(self.rt.tickets.consume, ticket)
            except TicketStoreUnavailable:
                raise errors.StreamUnavailable()
            if claims is None:
                raise errors.InvalidTicket()
            return claims
        header = req.get_header("Authorization")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.Unauthorized("Authorization header must be 'Bearer <token>'",
                                      code="invalid_authorization_header")
        try:
            return verify_token(self.secret, token.strip())
        except InvalidToken:
            raise errors.Unauthorized("Token is invalid or expired", code="invalid_token")

    async def _post_exists(self, post_id):
        if self.rt.hub.is_deleted(post_id):
            return False
        known = self._exists.get(post_id)
        now = time.monotonic()
        if known is not None and now - known[1] < POST_EXISTS_TTL:
            return known[0]
        try:
            exists = bool(await asyncio.to_thread(self.rt.rpc.read, "posts", "post_exists", post_id))
        except errors.NotFound:
            exists = False
        except Exception as exc:
            log.warning("stream: post_exists failed", extra={"error": repr(exc)})
            raise errors.StreamUnavailable()
        if len(self._exists) > 10000:
            self._exists.clear()
        self._exists[post_id] = (exists, now)
        return exists

    async def on_get(self, req, resp):
        names = parse_streams(req.get_param("streams"), self.max_streams)
        claims = await self._claims(req)
        if claims is not None and self.rt.access.stale_sources():
            # Without the access feed's current state a revoked token could pass (the
            # gateway's /ready is 503 then too); anonymous streams go on.
            raise errors.StreamUnavailable("Authenticated streams are not available right now")
        principal = self.rt.access.check(claims) if claims is not None else None
        if principal is None and ("user" in names or "moderation" in names):
            raise errors.Unauthorized("The user and moderation streams need a ticket or a token",
                                      code="not_authenticated")
        if "moderation" in names and not principal.is_admin:
            raise errors.Forbidden("Administrator rights required", code="admin_required")
        if not self.rt.ready():
            raise errors.StreamUnavailable()
        keys = [f"user:{principal.id}" if n == "user" else n for n in names]
        subject = f"user:{principal.id}" if principal else f"ip:{req.remote_addr}"
        limit = self.per_user if principal else self.per_ip
        conn_id = uuid.uuid4().hex
        try:
            taken = await asyncio.to_thread(self.rt.slots.take, subject, conn_id, limit)
        except TicketStoreUnavailable:
            raise errors.StreamUnavailable()
        if not taken:
            exc = errors.TooManyConnections(
                f"At most {limit} open stream connections {'per user' if principal else 'per IP'}")
            exc.retry_after = 10
            raise exc
        try:
            for name in names:
                match = _POST.match(name)
                if match and not await self._post_exists(int(match.group(1))):
                    raise errors.PostNotFound()
            if claims is not None:  # revoked while we waited: refused (no await from here on)
                principal = self.rt.access.check(claims)
                if "moderation" in names and not principal.is_admin:
                    raise errors.Forbidden("Administrator rights required", code="admin_required")
        except Exception:
            self.rt.slots.release(subject, conn_id)
            raise
        from streaming.hub import Connection
        connection = Connection(keys, principal.id if principal else None, claims,
                                prefix=req.forwarded_prefix, limit=self.buffer, conn_id=conn_id)
        connection.subject = subject
        last_id = req.get_header("Last-Event-ID") or req.get_param("last_event_id")
        reset, backlog = self.rt.hub.register(connection, last_id)
        resp.content_type = "text/event-stream"
        resp.set_header("Cache-Control", "no-cache")
        resp.set_header("X-Accel-Buffering", "no")
        resp.sse = self._events(connection, reset, backlog)

    def _event(self, connection, item):
        return SSEvent(event=item.name, event_id=connection.id_of(item),
                       data=item.payload(connection.prefix, encode_json))

    async def _events(self, connection, reset, backlog):
        rt = self.rt
        loop = asyncio.get_running_loop()
        connection.task = asyncio.current_task()
        try:
            yield SSEvent(retry=3000)
            if reset:
                yield SSEvent(event="reset", event_id=rt.hub.head_id(), data=b"{}")
            for item in backlog:
                if item.purged:
                    continue
                connection.sending = True
                yield self._event(connection, item)
                connection.sending = False
                rt.metrics.delivered(item)
            while True:
                while connection.queue:
                    item = connection.queue.popleft()
                    if item.purged:
                        continue
                    connection.sending = True  # until falcon's send returns (ours resumes)
                    yield self._event(connection, item)
                    connection.sending = False
                    rt.metrics.delivered(item)
                if connection.closed is not None:
                    break
                connection.wakeup.clear()
                # A timer, not wait_for: no task per waiting connection (memory per idle
                # stream, docs/performance.md).
                timer = loop.call_later(self.heartbeat, connection.wakeup.set)
                await connection.wakeup.wait()
                timer.cancel()
                if not connection.queue and connection.closed is None:
                    # The heads as id: a client quiet for minutes still resumes exactly.
                    yield SSEvent(comment="ping", event_id=None if connection.extra is not None
                                  else rt.hub.head_id())
        finally:
            rt.finish(connection)


class HealthResource:
    async def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class ReadyResource:
    def __init__(self, runtime):
        self.rt = runtime

    async def on_get(self, req, resp):
        checks = self.rt.checks()
        resp.status = falcon.HTTP_200 if all(v == "ok" for v in checks.values()) else falcon.HTTP_503
        resp.media = {"status": "ok" if resp.status == falcon.HTTP_200 else "unavailable",
                      "checks": checks}


class MetricsResource:
    async def on_get(self, req, resp):
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = generate_latest()


class Lifespan:
    """ASGI lifespan: the runtime's threads and tasks start with the loop, stop with it."""

    def __init__(self, runtime):
        self.runtime = runtime

    async def process_startup(self, scope, event):
        await self.runtime.start()

    async def process_shutdown(self, scope, event):
        await self.runtime.stop()


def create_app(runtime):
    app = falcon.asgi.App(middleware=[Lifespan(runtime)])
    app.req_options.strip_url_path_trailing_slash = True
    app.add_error_handler(Exception, unexpected_error_handler)
    app.add_error_handler(errors.DomainError, domain_error_handler)
    app.add_error_handler(falcon.HTTPError, http_error_handler)
    app.add_route("/api/stream", StreamResource(runtime))
    app.add_route("/health", HealthResource())
    app.add_route("/ready", ReadyResource(runtime))
    app.add_route("/metrics", MetricsResource())
    return app

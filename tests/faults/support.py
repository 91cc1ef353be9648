"""Fault tests' tools: a private stack instance (own databases, vhost, topics, ports, var
dir; optionally its own RabbitMQ/PostgreSQL/Kafka/ClickHouse servers), a load generator
that records every request and its answer, traceable writes, and the reconciliation of
what clients were told against what PostgreSQL, the outboxes, ClickHouse and the
notifications hold (Jepsen-style: a record of the operations, then a check of the
outcome against it)."""
import collections
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import psycopg2
import requests
from clickhouse_driver import Client
from clickhouse_driver.errors import Error as ClickHouseError

from contracts.events import CATALOGUE, decode
from gateway.ratelimit import RULES as RATE_LIMIT_RULES
from imageboard.config import database_url, load_config
from imageboard.db import drop_database
from imageboard_ops import infra, processes, system
from imageboard_ops.components import components
from imageboard_ops.util import pid_alive, read_pid, wait_for
from nameko.standalone.rpc import ClusterRpcProxy
from tests.ports import free_port
from tests.private_servers import PrivatePostgres

INSTANCE = os.environ.get("IB_TEST_INSTANCE", "test")

# One request of a load (or of a test): `status` 0 for a connection error; `body` the
# decoded JSON answer of a 2xx write (None otherwise); `meta` what the action said about
# it (who sent it, which post, its tag) so the reconciliation can find its effects.
Record = collections.namedtuple("Record", "started name status seconds body meta")

WRITES = ("register", "login", "post", "comment", "like")


def acknowledged(status):
    return 200 <= status < 300


def indeterminate(status):
    """No answer, or 5xx: the client cannot know whether the write was applied (a 504
    may come after the commit; a 503 from a stopped service means not applied only if
    the service stayed away longer than RPC_TIMEOUT, test_service_killed.py)."""
    return status == 0 or status >= 500


class PrivateStack:
    """The whole system started by imageboard_ops.system (as `imageboard up` does) for
    one fault test, with env overrides (e.g. a private server's address). os.environ is
    restored on exit, so later tests and their processes see the suite's own settings
    again."""

    def __init__(self, name, postgres=None, supervised=False, **overrides):
        """`postgres`: a PrivatePostgres to use (the caller breaks it); by default the stack
        makes its own, so fault tests never take connection slots of the shared server.
        `supervised`: run it under `imageboard run` instead, whose loop restarts a
        process that exits (the only supervisor outside Docker: `imageboard up` has none)."""
        self.supervised = supervised
        self.supervisor = None
        self.own_postgres = postgres is None
        self.postgres = postgres or PrivatePostgres()
        instance = f"{INSTANCE}_{name}".replace("-", "_")
        self.tag = f"{name}{uuid.uuid4().hex[:6]}"  # in every title and comment it writes
        self.var = os.path.join(tempfile.gettempdir(), f"imageboard-{instance}-var")
        self.env = {
            "DB_PREFIX": f"imageboard_{instance}",
            "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/imageboard_{instance}",
            "GATEWAY_BIND": f"127.0.0.1:{free_port()}",
            "STREAM_BIND": f"127.0.0.1:{free_port()}",
            "KAFKA_TOPIC_PREFIX": f"{instance}-{uuid.uuid4().hex[:6]}-",
            "CLICKHOUSE_URL": f"clickhouse://default:@127.0.0.1:9000/imageboard_{instance}",
            "IMAGEBOARD_VAR": self.var,
            "MEDIA_ROOT": os.path.join(self.var, "media"),
            "METRICS_PORT_BASE": "0",  # no /metrics ports to collide with other instances
            "RPC_TIMEOUT": "3",
            "LOG_LEVEL": "INFO",
            "POSTGRES_URL": self.postgres.url,
            # These tests prove durability under load from a few users; the per-user limits
            # (tests/e2e/test_rate_limits_api.py) would answer their writes 429.
            **{rule.setting: "0" for rule in RATE_LIMIT_RULES},
            **overrides,
        }
        self.saved = None
        self.config = None
        self.url = None
        self.ledger = []  # Records of the writes the test itself made (seeds, probes)

    def __enter__(self):
        self.saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            if not self.postgres.initialised:
                self.postgres.init()
            self.config = load_config()
            infra.ensure(self.config)
            self._reset()
            if self.supervised:
                self._run_supervised()
            else:
                self.url = system.start(self.config, with_infra=False, timeout=90)["gateway"]
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _run_supervised(self):
        os.makedirs(self.var, exist_ok=True)
        with open(os.path.join(self.var, "imageboard-run.log"), "ab") as log:
            self.supervisor = subprocess.Popen(
                [os.path.join(os.path.dirname(sys.executable), "imageboard"), "run",
                 "--no-infra", "--keep-infra"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.url = system.gateway_url(self.config)

        def ready():
            assert self.supervisor.poll() is None, (
                f"imageboard run exited ({self.supervisor.returncode}): {self.var}/imageboard-run.log")
            try:
                return requests.get(self.url + "/ready", timeout=10).status_code == 200
            except requests.RequestException:
                return False
        wait_for(ready, 90, interval=0.5, what="imageboard run to be ready")

    def _stop_supervisor(self):
        """SIGTERM: `imageboard run` stops every process it started, then exits."""
        if self.supervisor is None:
            return
        self.supervisor.terminate()
        try:
            self.supervisor.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.supervisor.kill()
            self.supervisor.wait(timeout=10)
        self.supervisor = None

    def _reset(self):
        system.stop(self.config, keep_infra=True)
        for service in self.config["SERVICES"]:
            drop_database(database_url(self.config, service))
        if "analytics" in self.config["SERVICES"]:
            from analytics_store.schema import drop_database as drop_clickhouse
            try:
                drop_clickhouse(self.config)
            except Exception:
                pass  # ClickHouse unreachable: nothing to drop

    def __exit__(self, *exc):
        try:
            if self.config is not None:
                self._stop_supervisor()
                system.stop(self.config, keep_infra=True)
                for service in self.config["SERVICES"]:
                    try:
                        drop_database(database_url(self.config, service))
                    except Exception:
                        pass
            if self.own_postgres:
                self.postgres.destroy()
        finally:
            os.environ.clear()
            os.environ.update(self.saved)

    @property
    def services(self):
        return list(self.config["SERVICES"])

    def pid(self, name):
        return read_pid(name)  # inside the context IMAGEBOARD_VAR is this stack's var dir

    def pids(self):
        """{process name: pid} of every process of this stack (services, pipeline, gateway)."""
        return {spec.name: self.pid(spec.name) for spec in processes.app_processes(self.config)}

    def kill(self, name):
        """SIGKILL a process of this stack (its whole group): a crash, not a shutdown."""
        pid = self.pid(name)
        assert pid_alive(pid), f"{name} is not running"
        os.killpg(pid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(pid), 10, what=f"{name} to die")

    def restart(self, name):
        """Start one of this stack's processes again (the same argv `up` uses)."""
        spec = next(s for s in processes.app_processes(self.config) if s.name == name)
        return processes.start(spec)

    def request(self, name, method, path, meta=None, **kwargs):
        """One request of the test itself, recorded in the ledger like a load's."""
        kwargs.setdefault("timeout", 15)
        started = time.monotonic()
        try:
            resp = requests.request(method, self.url + path, **kwargs)
        except requests.RequestException:
            self.ledger.append(Record(started, name, 0, time.monotonic() - started, None, meta or {}))
            raise
        body = resp.json() if acknowledged(resp.status_code) and resp.content else None
        self.ledger.append(Record(started, name, resp.status_code, time.monotonic() - started,
                                  body, meta or {}))
        return resp

    def register(self, name):
        resp = self.request("register", "POST", "/api/users/register/", json={
            "username": name, "email": f"{name}@example.com", "password": "password1"})
        assert resp.status_code == 201, resp.text
        return resp.json()

    def make_admin(self, user):
        """The stored flag (set_admin), then the user's own token carries the right within
        1 s: the gateway trusts current state, not the token's is_admin claim."""
        with ClusterRpcProxy(self.config, timeout=10) as rpc:
            rpc.users.set_admin(user["username"])
        stats = "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-02"
        wait_for(lambda: requests.get(self.url + stats, headers=auth(user),
                                      timeout=10).status_code != 403,
                 5, interval=0.05, what="admin rights on the gateway")
        return user

    def create_post(self, user, title=None, content="c"):
        title = title or f"{self.tag}-seed{len(self.ledger)}"
        resp = self.request("post", "POST", "/api/posts/", headers=auth(user),
                            meta={"user_id": user["id"], "tag": title},
                            files={"title": (None, title), "content": (None, content)})
        assert resp.status_code == 201, resp.text
        return resp.json()

    def like(self, user, post_id):
        return self.request("like", "POST", f"/api/posts/{post_id}/like/", headers=auth(user),
                            meta={"user_id": user["id"], "post_id": post_id})

    def wait_ready(self, timeout=90):
        """Poll /ready until every service answers; returns the seconds it took."""
        started = time.monotonic()

        def ready():
            try:
                return requests.get(self.url + "/ready", timeout=10).status_code == 200
            except requests.RequestException:
                return False
        wait_for(ready, timeout, interval=0.5, what="the stack to be ready again")
        return time.monotonic() - started

    def sql(self, service, query, args=()):
        from imageboard.db import connect_kwargs
        name, kwargs = connect_kwargs(database_url(self.config, service))
        conn = psycopg2.connect(dbname=name, **kwargs)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(query, args)
                return cur.fetchall()
        finally:
            conn.close()


def auth(user):
    return {"Authorization": f"Bearer {user['token']}"}


class Load:
    """Threads calling `actions` round-robin until stopped; every request is recorded as a
    Record. An action is `i -> (name, method, path, kwargs[, meta])`; `on_record` (if
    given) sees each Record as it is made (Writes uses it to learn new posts)."""

    def __init__(self, base, actions, threads=3, pause=0.02, on_record=None):
        self.base, self.actions, self.threads, self.pause = base, actions, threads, pause
        self.on_record = on_record
        self.records = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.workers = []
        self.errors = []  # exceptions raised by the threads themselves (fail the test)

    def _run(self, offset):
        session = requests.Session()
        i = offset
        try:
            while not self.stopping.is_set():
                name, method, path, kwargs, *meta = self.actions[i % len(self.actions)](i)
                i += 1
                started = time.monotonic()
                body = None
                try:
                    resp = session.request(method, self.base + path, timeout=30, **kwargs)
                    status = resp.status_code
                    if method != "GET" and acknowledged(status) and resp.content:
                        body = resp.json()
                except requests.RequestException:
                    status = 0
                    session = requests.Session()
                record = Record(started, name, status, time.monotonic() - started, body,
                                meta[0] if meta else {})
                with self.lock:
                    self.records.append(record)
                if self.on_record is not None:
                    self.on_record(record)
                time.sleep(self.pause)
        except BaseException as exc:  # noqa: B902 (reported by __exit__, in the test)
            self.errors.append(exc)
            raise

    def __enter__(self):
        for n in range(self.threads):
            worker = threading.Thread(target=self._run, args=(n,), daemon=True)
            worker.start()
            self.workers.append(worker)
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for worker in self.workers:
            worker.join(40)
        alive = [w for w in self.workers if w.is_alive()]
        if exc[0] is None:
            assert not self.errors, f"a load thread failed: {self.errors[0]!r}"
            assert not alive, f"{len(alive)} load threads did not stop within 40 s"

    def between(self, start, end, name=None):
        with self.lock:
            return [r for r in self.records if start <= r[0] < end and (name is None or r[1] == name)]

    def wait_until(self, predicate, timeout, what):
        """Poll `predicate(records)` with a deadline; returns the time it first held."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                records = list(self.records)
            if predicate(records):
                return time.monotonic()
            assert time.monotonic() < deadline, f"timed out after {timeout:.0f}s waiting for {what}"
            time.sleep(0.2)

    def wait_healthy(self, since, names, window=4.0, timeout=60, allowed=(200, 201)):
        """Poll until the last `window` seconds hold requests of every one of `names`,
        begun after `since`, all answered with `allowed` statuses: recovered, and stayed
        so. Returns the time that window began."""
        def healthy(records):
            now = time.monotonic()
            start = max(since, now - window)
            if now - start < window:
                return False
            recent = [r for r in records if r.started >= start and r.started + r.seconds < now]
            return ({r.name for r in recent} >= set(names)
                    and all(r.status in allowed for r in recent))
        return self.wait_until(healthy, timeout, f"{window:.0f} s of only {allowed} for {names}") - window

    @staticmethod
    def statuses(records):
        return dict(sorted(collections.Counter(r[2] for r in records).items()))


class Writes:
    """Write actions for a Load whose every outcome can be found again: posts titled and
    comments worded `<stack tag>-<n>`, and likes. A like is a toggle, so no (user, post)
    pair is ever sent twice: resending one whose first answer was a 504 could undo it.
    Posts acknowledged during the load become targets of later comments and likes."""

    def __init__(self, stack, users, posts, likers=None):
        self.tag = stack.tag
        self.users, self.likers = users, likers or users
        self.posts = list(posts)  # [(post_id, author_id)]
        self.sent_likes = set()
        self.lock = threading.Lock()
        self.seq = itertools.count(1)

    def _next(self):
        n = next(self.seq)
        return n, self.users[n % len(self.users)]

    def post(self, i):
        n, user = self._next()
        title = f"{self.tag}-p{n}"
        return ("post", "POST", "/api/posts/",
                {"headers": auth(user), "files": {"title": (None, title), "content": (None, "x")}},
                {"user_id": user["id"], "tag": title})

    def comment(self, i):
        n, user = self._next()
        with self.lock:
            post_id, _ = self.posts[n % len(self.posts)]
        text = f"{self.tag}-c{n}"
        return ("comment", "POST", "/api/comments/",
                {"headers": auth(user), "json": {"post_id": post_id, "content": text}},
                {"user_id": user["id"], "post_id": post_id, "tag": text})

    def like(self, i):
        """A like of a (user, post) pair never sent before (newest posts first); a feed
        read once every pair has been sent."""
        with self.lock:
            for post_id, _ in reversed(self.posts):
                for user in self.likers:
                    if (user["id"], post_id) not in self.sent_likes:
                        self.sent_likes.add((user["id"], post_id))
                        return ("like", "POST", f"/api/posts/{post_id}/like/",
                                {"headers": auth(user)},
                                {"user_id": user["id"], "post_id": post_id})
        return ("feed", "GET", "/api/posts/", {})

    def on_record(self, record):
        if record.name == "post" and acknowledged(record.status):
            with self.lock:
                self.posts.append((record.body["id"], record.meta["user_id"]))


# ---- reconciliation ------------------------------------------------------------------

BEST_EFFORT = {e.type for e in CATALOGUE if e.best_effort}  # no outbox row (post.viewed)


class Reconciliation:
    """What the records promised against what the stores hold. `counts` is printed by
    each test and quoted in docs/robustness.md; `bad` maps each check that failed to its
    offending items, and `problems` (one line per failed check) must be empty."""

    def __init__(self):
        self.counts = {}
        self.bad = {}

    def count(self, key, value):
        self.counts[key] = value
        return value

    def expect(self, what, bad):
        """`bad`: the offending items (empty when all is well)."""
        if bad:
            self.bad[what] = bad if isinstance(bad, dict) else sorted(bad, key=repr)

    @property
    def problems(self):
        return [f"{what}: {len(items)}, e.g. {list(items.items() if isinstance(items, dict) else items)[:5]}"
                for what, items in self.bad.items()]

    def summary(self):
        return " ".join(f"{k}={v}" for k, v in self.counts.items())


def _outbox_events(stack):
    """[(service, event_id, type, payload, published)] of every outbox of the stack."""
    events = []
    for service in [c.name for c in components(stack.config) if c.outbox]:
        for event_id, body, published in stack.sql(
                service, "SELECT event_id::text, body, published_at IS NOT NULL FROM outbox"):
            event = decode(body)
            events.append((service, event_id, event.type, event, published))
    return events


def _clickhouse(stack):
    url = stack.config["CLICKHOUSE_URL"]
    return Client.from_url(url), url.rsplit("/", 1)[1]


def _clickhouse_counts(stack, final=False):
    client, database = _clickhouse(stack)
    try:
        rows = client.execute(f"SELECT toString(event_id), any(type), count() FROM {database}.events"
                              f"{' FINAL' if final else ''} GROUP BY event_id")
    finally:
        client.disconnect()
    return {event_id: (event_type, n) for event_id, event_type, n in rows}


def _expected_notifications(events):
    """{(source_event_id, user_id, type)} the notification rules give for these events
    (services/notifications/rules.py, unit-tested on their own: here only delivery is
    checked)."""
    from services.notifications.rules import notifications_for
    return {(event_id, draft.user_id, draft.type)
            for _, event_id, _, event, _ in events for draft in notifications_for(event)}


def _notifications(stack):
    return {(str(source), user_id, kind): n for source, user_id, kind, n in stack.sql(
        "notifications", "SELECT source_event_id, user_id, type, count(*) FROM notifications "
                         "GROUP BY 1, 2, 3")}


def _settled(stack, with_clickhouse, with_notifications):
    """(done, what is still missing): every outbox row published, every event in
    ClickHouse, every expected notification made."""
    events = _outbox_events(stack)
    waiting = {"unpublished": sum(1 for e in events if not e[4])}
    if with_clickhouse:
        try:
            seen = _clickhouse_counts(stack)
        except (ClickHouseError, OSError, EOFError) as exc:  # ClickHouse still coming back
            return False, {"clickhouse": repr(exc)[:100]}
        waiting["not_in_clickhouse"] = sum(1 for e in events if e[1] not in seen)
    if with_notifications:
        waiting["notifications_missing"] = len(_expected_notifications(events) - set(_notifications(stack)))
    return not any(waiting.values()), waiting


def reconcile(stack, records, timeout=120, settle=3.0):
    """Check every write the records (a load's and the stack's ledger) hold against the
    system's stores, once everything has had `timeout` seconds to flow through:

    - 0 acknowledged writes lost: every 2xx registration, post, comment and like is a row
      in its PostgreSQL database (and the row the answer named); writes are applied at
      most once (no title, comment or like twice) and no row exists that no request asked
      for; a refused (4xx) write left nothing;
    - each applied write has exactly one event in its outbox (logins: one event per 2xx,
      at most one more per indeterminate login), and every outbox row is published;
    - ClickHouse (when `analytics` runs): every outbox event is in `events`, exactly once
      counted by event_id after deduplication (FINAL; the pipeline delivers at least once,
      raw copies are counted in `clickhouse_raw_copies`), and none that no outbox holds
      (best-effort post.viewed aside); its dead_letters table is empty;
    - notifications (when `notifications` runs): each event the rules say notifies
      someone (post.liked, comment.created, user.registered) gave exactly one
      notification to each recipient, none more and none other; each notification has
      exactly one notification.created event; its dead_letters table is empty.
    Returns a Reconciliation (its `problems` empty when all holds)."""
    result = Reconciliation()
    services = stack.services
    with_clickhouse = "analytics" in services
    with_notifications = "notifications" in services
    writes = [r for r in records if r.name in WRITES]

    started = time.monotonic()
    deadline = started + timeout
    done, waiting = False, {}
    while not done and time.monotonic() < deadline:
        done, waiting = _settled(stack, with_clickhouse, with_notifications)
        if not done:
            time.sleep(1)
    result.count("settled_s", round(time.monotonic() - started, 1))
    if not done:
        result.expect(f"not settled {timeout} s after the load", [waiting])
    time.sleep(settle)  # a late copy of an event (a duplicate) would land now

    # -- PostgreSQL: each write's row ------------------------------------------------
    posts, comments = {}, {}  # title / content -> [row id]
    for row_id, title in stack.sql("posts", "SELECT id, title FROM posts"):
        posts.setdefault(title, []).append(row_id)
    if "comments" in services:
        for row_id, content in stack.sql("comments", "SELECT id, content FROM comments"):
            comments.setdefault(content, []).append(row_id)
    like_rows = set(stack.sql("posts", "SELECT user_id, post_id FROM likes"))
    users = {row_id for (row_id,) in stack.sql("users", "SELECT id FROM users")}
    tagged = {"post": posts, "comment": comments}

    def applied(r):
        """How many times the write of record `r` is in PostgreSQL (None: a login,
        which changes no row; its event is counted below)."""
        if r.name in tagged:
            return len(tagged[r.name].get(r.meta["tag"], []))
        if r.name == "like":
            return int((r.meta["user_id"], r.meta["post_id"]) in like_rows)
        if r.name == "register":
            return int(r.body is not None and r.body["id"] in users)
        return None

    result.count("acknowledged", dict(collections.Counter(
        r.name for r in writes if acknowledged(r.status))))
    acked = [r for r in writes if acknowledged(r.status) and r.name != "login"]
    result.expect("acknowledged writes lost (2xx, no row)", [r for r in acked if applied(r) == 0])
    result.expect("acknowledged writes answered with another row's id", [
        r for r in acked if r.name in tagged
        and r.body["id"] not in tagged[r.name].get(r.meta["tag"], [])])
    result.expect("likes answered as unlikes (no pair is sent twice)", [
        r for r in acked if r.name == "like" and r.body.get("liked") is not True])
    result.expect("writes applied more than once", [r for r in writes if (applied(r) or 0) > 1])
    result.expect("refused (4xx) writes applied",
                  [r for r in writes if 400 <= r.status < 500 and applied(r)])
    unsure = [r for r in writes if indeterminate(r.status) and r.name != "login"]
    result.count("indeterminate", f"{len(unsure)} sent, {sum(1 for r in unsure if applied(r))} applied")
    asked = {(r.name, r.meta.get("tag")) for r in writes if r.name in tagged}
    asked_likes = {(r.meta["user_id"], r.meta["post_id"]) for r in writes if r.name == "like"}
    registered = {r.body["id"] for r in writes if r.name == "register" and r.body}
    result.expect("rows no request asked for",
                  [(name, text) for name, rows in tagged.items() for text in rows
                   if (name, text) not in asked]
                  + [("like", pair) for pair in like_rows - asked_likes]
                  + [("user", i) for i in users - registered])

    # -- outboxes: one event per applied write ---------------------------------------
    events = _outbox_events(stack)
    result.count("outbox_events", len(events))
    result.expect("outbox rows never published", [e[1] for e in events if not e[4]])
    per_write = collections.Counter()
    for _, _, event_type, event, _ in events:
        p = event.payload
        if event_type == "post.created":
            per_write[("post", p.post_id)] += 1
        elif event_type == "comment.created":
            per_write[("comment", p.comment_id)] += 1
        elif event_type in ("post.liked", "post.unliked"):
            per_write[("like", (p.user_id, p.post_id))] += 1
        elif event_type == "user.registered":
            per_write[("register", p.user_id)] += 1
        elif event_type == "user.logged_in":
            per_write[("login", p.user_id)] += 1
    rows = ({(name, i) for name, by_text in tagged.items() for ids in by_text.values() for i in ids}
            | {("like", pair) for pair in like_rows} | {("register", i) for i in users})
    result.expect("rows without exactly one event",
                  {row: per_write[row] for row in rows if per_write[row] != 1})
    result.expect("events of no row", [w for w in per_write if w[0] != "login" and w not in rows])
    logins = collections.defaultdict(lambda: [0, 0])  # user -> [2xx, indeterminate]
    for r in writes:
        if r.name == "login" and acknowledged(r.status):
            logins[r.meta["user_id"]][0] += 1
        elif r.name == "login" and indeterminate(r.status):
            logins[r.meta["user_id"]][1] += 1
    result.expect("logins without their event, or with too many", {
        user: (per_write[("login", user)], ok, maybe) for user, (ok, maybe) in logins.items()
        if not ok <= per_write[("login", user)] <= ok + maybe})

    # -- ClickHouse ------------------------------------------------------------------
    if with_clickhouse:
        raw = _clickhouse_counts(stack)
        final = _clickhouse_counts(stack, final=True)
        outbox_ids = {e[1] for e in events}
        result.count("clickhouse_events", sum(1 for t, _ in final.values() if t not in BEST_EFFORT))
        result.count("clickhouse_best_effort", sum(1 for t, _ in final.values() if t in BEST_EFFORT))
        result.count("clickhouse_raw_copies", sum(n for _, n in raw.values()) - len(raw))
        result.expect("events missing in ClickHouse", outbox_ids - set(final))
        result.expect("events duplicated in ClickHouse (by event_id, FINAL)",
                      {e: n for e, (_, n) in final.items() if n > 1})
        result.expect("events in ClickHouse that no outbox holds",
                      [e for e, (t, _) in final.items() if e not in outbox_ids and t not in BEST_EFFORT])
        client, database = _clickhouse(stack)
        try:
            letters = client.execute(f"SELECT count() FROM {database}.dead_letters")[0][0]
        finally:
            client.disconnect()
        result.expect("pipeline dead letters", ["x"] * letters)

    # -- notifications ---------------------------------------------------------------
    if with_notifications:
        expected = _expected_notifications(events)
        made = _notifications(stack)
        result.count("notifications", dict(collections.Counter(k[2] for k in made)))
        result.expect("notifications missing", expected - set(made))
        result.expect("notifications duplicated", {k: n for k, n in made.items() if n > 1})
        result.expect("notifications no event called for", set(made) - expected)
        ids = {i for (i,) in stack.sql("notifications", "SELECT id FROM notifications")}
        created = collections.Counter(e[3].payload.notification_id for e in events
                                      if e[2] == "notification.created")
        result.expect("notifications without exactly one notification.created event",
                      {i: created[i] for i in ids | set(created) if created[i] != 1 or i not in ids})
        letters = stack.sql("notifications", "SELECT count(*) FROM dead_letters")[0][0]
        result.expect("notifications dead letters", ["x"] * letters)
    return result

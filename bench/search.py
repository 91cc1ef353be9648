"""`make bench-search`: post search and cursor pages at 100,000 posts, through the API.

    .venv/bin/python -m bench.search [--posts 100000] [--queries 1000] [--keep]

1. Starts its own instance (databases imageboard_search_*, vhost imageboard_search, gateway
   on SEARCH_BENCH_PORT, default 18680) with users, posts and comments only, on fresh
   databases.
2. Inserts the posts straight into the posts database with COPY (the search trigger fills
   every vector): realistic text, words drawn from a Zipf-distributed vocabulary of real
   English and Russian words and synthetic rarer ones, titles of 3-8 words, contents of
   15-80; 300 comments on one post.
3. Through the gateway, one client on a kept-alive connection: two-word searches (word pairs
   drawn by the same frequencies, ranks 10-3000, so typical queries hit tens to thousands
   of posts; then each of those words equally likely) p50/p95/p99 and the matches' median; the two commonest words as the worst
   case; the first cursor page and one 80% down the feed against page-number pages 1
   and 80% down (OFFSET); the same for a 300-comment thread (pages 1 and 15).
4. At the database (no RPC, no HTTP; median of 30): the feed's count from the
   trigger-kept posts_total row against COUNT(*), and the thread's count(*) OVER ().
Prints a JSON report (docs/performance.md, "Search and cursor pages").
"""
import argparse
import io
import itertools
import json
import os
import random
import statistics
import tempfile
import time

PORT = os.environ.get("SEARCH_BENCH_PORT", "18680")
INSTANCE = "search"
VAR = os.path.join(tempfile.gettempdir(), "imageboard-search-bench-var")
ENV = {
    "DB_PREFIX": f"imageboard_{INSTANCE}",
    "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/imageboard_{INSTANCE}",
    "GATEWAY_BIND": f"127.0.0.1:{PORT}",
    "STREAM_BIND": f"127.0.0.1:{int(PORT) + 1}",  # the stream process beside it
    "KAFKA_TOPIC_PREFIX": f"{INSTANCE}-bench-{os.getpid()}-",
    "IMAGEBOARD_VAR": VAR,
    "MEDIA_ROOT": os.path.join(VAR, "media"),
    "METRICS_PORT_BASE": str(20000 + (int(PORT) - 18000) * 20),
    "SERVICES": "[users, posts, comments]",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)  # before the configuration is loaded, and inherited by the processes

import requests  # noqa: E402

from bench.seed_sql import connect  # noqa: E402
from imageboard.config import database_url, load_config  # noqa: E402
from imageboard.db import drop_database  # noqa: E402
from imageboard_ops import infra, system  # noqa: E402

COMMON = ("the of and to in is it that for you was on are with as be this have not but at by "
          "from or one all there can an your which their if do will each about how up out them "
          "then she many some so these would other into has more her two like him see time could "
          "no make than first been its who now people my made over did down only way find use "
          "may water long little very after words called just where most know get through back "
          "much before go good new write our used me man too any day same right look think also "
          "around another came come work three word must because does part even place well such "
          "here take why things help put years different away again off went old number great "
          "tell men say small every found still between name should home big give air line set "
          "own under read last never us left end along while might next sound below saw "
          "something thought both few those always looked show large often together asked house "
          "world going want school important until form food keep children feet land side "
          "without boy once animals life enough took sometimes four head above kind began almost "
          "live page got earth need far hand high year mother light parts country father let "
          "night following picture being study second eyes soon times story boys since white "
          "days ever paper hard near sentence better best across during today others sure means "
          "however city thread board anime manga game music film photo image cat dog question "
          "answer problem python linux server code bug release update version").split()
RUSSIAN = ("и в не на я что тот быть с а весь это как она по но они к у ты из мы за вы так же от "
           "сказать этот который мочь человек о один еще бы такой только себя свое какой когда уже "
           "для вот кто да говорить год знать мой до или если время рука нет самый ни стать большой "
           "даже другой наш свой ну под где дело есть сам раз чтобы два там чем глаз жизнь первый "
           "день тута ничто потом очень со хотеть ли при голова надо без видеть идти теперь тоже "
           "стоять друг дом сейчас можно после слово здесь думать место спросить через лицо что-то "
           "тогда ведь хороший каждый новый жить должный смотреть почему потому сторона просто "
           "нога сидеть понять иметь конечно делать вдруг над взять никто сделать дверь перед "
           "нужный понимать казаться работа три ваш уж земля конец несколько час голос город "
           "последний пока хорошо давать вода более хотя всегда второй куда пойти стол ребенок "
           "увидеть сила отец женщина машина случай ночь сразу мир совсем остаться об вид "
           "выйти дать работать любить старый почти ряд оказаться начало твой вопрос много "
           "война снова ответить между подумать опять белый деньги значить про лишь минута "
           "жена посмотреть правда главный страна свет ждать мать будто никогда товарищ "
           "кот собака аниме борда тред картинка музыка фильм игра сервер код").split()
SYLLABLES = ("ka ri to mo na shi ve lo pra zen dor mik tal bre fus gan hol jin kup lem nor pes "
             "qua rus sol tem uvi vor wex yar zol ba ce di fo gu").split()


def vocabulary(size, rng):
    """Real words first (the commonest ranks), then synthetic rarer ones."""
    words = list(dict.fromkeys(COMMON + RUSSIAN))
    rng.shuffle(words)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def zipf_weights(n, s=1.07):
    return [1 / (rank ** s) for rank in range(1, n + 1)]


def seed(config, posts, rng):
    words = vocabulary(30000, rng)
    cum = list(itertools.accumulate(zipf_weights(len(words))))
    started = time.perf_counter()
    buf = io.StringIO()
    now = time.time()
    for n in range(posts):
        title = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(3, 8))).capitalize()
        content = " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(15, 80))) + "."
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - (posts - n) * 30))
        at += f".{rng.randint(0, 999999):06d}+00"
        author = 1 + n % 500
        buf.write(f"{title}\t{content}\t{author}\tuser{author}\t{at}\t{at}\n")
    buf.seek(0)
    conn = connect(config, "posts")
    with conn, conn.cursor() as cur:
        cur.copy_expert("COPY posts (title, content, author_id, author_username, created_at, "
                        "updated_at) FROM STDIN", buf)
        cur.execute("SELECT max(id) FROM posts")
        hot = cur.fetchone()[0]
        cur.execute("UPDATE posts SET comments_count = 300 WHERE id = %s", (hot,))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE posts")
    conn.close()
    conn = connect(config, "comments")
    with conn, conn.cursor() as cur:
        cur.execute("""INSERT INTO comments (post_id, author_id, author_username, content, created_at, updated_at)
                       SELECT %s, 1 + g %% 500, 'user' || (1 + g %% 500), 'comment ' || g,
                              now() - make_interval(secs => 300 - g), now() - make_interval(secs => 300 - g)
                       FROM generate_series(1, 300) AS g""", (hot,))
        cur.execute("ANALYZE comments")
    conn.close()
    return words, hot, round(time.perf_counter() - started, 1)


def timed(session, url, params):
    started = time.perf_counter()
    resp = session.get(url, params=params, timeout=30)
    elapsed = (time.perf_counter() - started) * 1000
    assert resp.status_code == 200, resp.text[:300]
    return elapsed, resp


def summary(times):
    times = sorted(times)
    pick = lambda q: round(times[min(len(times) - 1, int(q * len(times)))], 2)  # noqa: E731
    return {"n": len(times), "p50_ms": pick(0.50), "p95_ms": pick(0.95), "p99_ms": pick(0.99),
            "max_ms": round(times[-1], 2)}


def repeat(session, url, params, runs=50):
    times = [timed(session, url, params)[0] for _ in range(runs + 5)][5:]
    return summary(times)


def deep_cursor(session, base, params, pages):
    """A cursor `pages` pages deep: walked there by next links (not timed), then timed."""
    _, resp = timed(session, base, params)
    url = None
    for _ in range(pages):
        body = resp.json()
        url = body["next"] if isinstance(body, dict) else resp.links["next"]["url"]
        _, resp = timed(session, url, None)
    return url


def measure(base, words, hot, posts, queries, rng):
    session = requests.Session()
    posts_url = base + "/api/posts/"
    weights = zipf_weights(len(words))
    ranks = range(10, 3000)
    pair_cum = list(itertools.accumulate(weights[r] for r in ranks))
    times, matches = [], []
    for _ in range(20):  # warm-up
        timed(session, posts_url, {"search": " ".join(rng.sample(words[:500], 2))})
    for _ in range(queries):
        a, b = rng.choices(ranks, cum_weights=pair_cum, k=2)
        elapsed, resp = timed(session, posts_url, {"search": f"{words[a]} {words[b]}"})
        times.append(elapsed)
        matches.append(resp.json()["count"])
    report = {"two_word_search": {**summary(times), "median_matches": statistics.median(matches),
                                  "max_matches": max(matches)}}
    # The same, each of the 3,000 words equally likely (queries of content words, rarely the
    # commonest ones).
    times, matches = [], []
    for _ in range(queries):
        a, b = rng.sample(ranks, 2)
        elapsed, resp = timed(session, posts_url, {"search": f"{words[a]} {words[b]}"})
        times.append(elapsed)
        matches.append(resp.json()["count"])
    report["two_word_search_uniform"] = {**summary(times), "median_matches": statistics.median(matches),
                                         "max_matches": max(matches)}
    worst = {"search": f"{words[0]} {words[1]}"}
    report["commonest_pair"] = {**repeat(session, posts_url, worst),
                                "matches": timed(session, posts_url, worst)[1].json()["count"]}
    report["commonest_pair_ordered"] = repeat(session, posts_url, {**worst, "ordering": "-created_at"})
    report["feed_page_1"] = repeat(session, posts_url, {"page": 1})
    report["cursor_first"] = repeat(session, posts_url, {"pagination": "cursor"})
    deep_page = max(2, int(posts * 0.8) // 20)  # 80% down the feed
    report[f"feed_page_{deep_page}"] = repeat(session, posts_url, {"page": deep_page})
    # Walked there in pages of 100 (untimed), then pages of 20 from that key are timed.
    deep = deep_cursor(session, posts_url, {"pagination": "cursor", "limit": 100}, deep_page // 5)
    report[f"cursor_{deep_page // 5 * 100}_rows_deep"] = repeat(
        session, deep.replace("limit=100", "limit=20"), None)
    comments_url = base + "/api/comments/"
    report["comments_page_1"] = repeat(session, comments_url, {"post_id": hot, "page": 1})
    report["comments_page_15"] = repeat(session, comments_url, {"post_id": hot, "page": 15})
    report["comments_cursor_first"] = repeat(session, comments_url, {"post_id": hot, "pagination": "cursor"})
    deep = deep_cursor(session, comments_url, {"post_id": hot, "pagination": "cursor"}, 14)
    report["comments_cursor_page_15"] = repeat(session, deep, None)
    return report


def db_median_ms(cur, sql, params=(), runs=30):
    cur.execute(sql, params)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        cur.execute(sql, params)
        cur.fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def database_figures(config, hot):
    conn = connect(config, "posts")
    with conn.cursor() as cur:
        figures = {"posts_total row ms": db_median_ms(cur, "SELECT total FROM posts_total"),
                   "count(*) posts ms": db_median_ms(cur, "SELECT count(*) FROM posts")}
    conn.close()
    conn = connect(config, "comments")
    with conn.cursor() as cur:
        figures["thread count(*) ms (300 comments)"] = db_median_ms(
            cur, "SELECT count(*) FROM comments WHERE post_id = %s", (hot,))
    conn.close()
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="leave the instance running")
    args = parser.parse_args()
    rng = random.Random(20261207)
    config = load_config()
    infra.ensure(config)
    system.stop(config, keep_infra=True)
    for service in config["SERVICES"]:
        drop_database(database_url(config, service))
    try:
        base = system.start(config, with_infra=False, timeout=120)["gateway"]
        words, hot, seconds = seed(config, args.posts, rng)
        report = {"posts": args.posts, "seed_seconds": seconds, **measure(base, words, hot, args.posts, args.queries, rng),
                  "database": database_figures(config, hot)}
        print(json.dumps(report, indent=1, ensure_ascii=False))
    finally:
        if not args.keep:
            system.stop(config, keep_infra=True)


if __name__ == "__main__":
    main()

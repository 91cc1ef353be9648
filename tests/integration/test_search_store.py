"""Search and keyset pages against the real posts database: the stored configuration
following SEARCH_CONFIG, edits re-indexed by the trigger, and keyset pages through rows
that share one created_at (the tie-breaking half of the key condition)."""
import pytest

from imageboard.config import database_url
from imageboard.db import make_database
from imageboard.keyset import Keyset
from services.posts.models import database
from services.posts.search import PostsQueries, sync_search_config

pytestmark = pytest.mark.integration


@pytest.fixture
def db(config, migrated):
    migrated("posts")
    db = make_database(database_url(config, "posts"), max_connections=2)
    database.initialize(db)
    yield db
    db.close_all()


def add(db, author, title, content, created_at="now()"):
    return db.execute_sql(
        "INSERT INTO posts (title, content, author_id, author_username, created_at, updated_at) "
        f"VALUES (%s, %s, %s, 'u', {created_at}, {created_at}) RETURNING id",
        (title, content, author)).fetchone()[0]


def found(queries, words):
    return [post["id"] for post in queries.search(words, 1, 100)["results"]]


def test_changing_search_config_recomputes_the_vectors(config, db, unique):
    post = add(db, 7, f"running {unique}", "the foxes")
    simple = PostsQueries(db, config)
    assert found(simple, f"run {unique}") == []
    english = dict(config, SEARCH_CONFIG="english")
    try:
        sync_search_config(english)
        assert found(PostsQueries(db, english), f"run fox {unique}") == [post]
        newer = add(db, 7, f"jumping {unique}", "x")  # the trigger uses the stored configuration
        assert found(PostsQueries(db, english), f"jump {unique}") == [newer]
    finally:
        sync_search_config(config)
    assert found(simple, f"running {unique}") == [post]
    assert found(simple, f"run {unique}") == []


def test_an_edit_is_searchable_at_its_commit(config, db, unique):
    post = add(db, 8, "before", f"old{unique}")
    queries = PostsQueries(db, config)
    db.execute_sql("UPDATE posts SET content = %s WHERE id = %s", (f"new{unique}", post))
    assert found(queries, f"new{unique}") == [post] and found(queries, f"old{unique}") == []
    db.execute_sql("UPDATE posts SET likes_count = likes_count + 1 WHERE id = %s", (post,))
    assert found(queries, f"new{unique}") == [post]


@pytest.mark.parametrize("created_desc,id_desc", [(True, True), (False, True), (False, False)])
def test_keyset_pages_through_rows_of_one_created_at(db, unique, created_desc, id_desc):
    author = int(unique[:8], 16)
    same = "'2001-01-01T00:00:00.5+00:00'::timestamptz"
    made = [add(db, author, "t", "c", same) for _ in range(5)]
    made += [add(db, author, "t", "c", "'2001-01-01T00:00:01+00:00'::timestamptz") for _ in range(2)]
    pages = Keyset("id", "posts", "author_id = %(author)s", created_desc, id_desc)
    params = {"author": author}
    expected = sorted(made, key=lambda i: (made.index(i) >= 5, i))  # created_at, then id
    if id_desc:
        expected = sorted(made[:5], reverse=True) + sorted(made[5:], reverse=True)
    if created_desc:
        expected = sorted(made[5:], reverse=True) + sorted(made[:5], reverse=True)
    seen, page = [], pages.page(db, 2, "next", None, params)
    walked = [page]
    while True:
        seen += [row[0] for row in page["rows"]]
        if not page["next"]:
            break
        page = pages.page(db, 2, "next", page["next"], params)
        walked.append(page)
    assert seen == expected and walked[0]["previous"] is None
    back = []
    while page["previous"]:
        page = pages.page(db, 2, "prev", page["previous"], params)
        back.insert(0, [row[0] for row in page["rows"]])
    assert [i for rows in back for i in rows] + [row[0] for row in walked[-1]["rows"]] == expected

"""Account deletion (contract v2 section 6.3) on the running stack: a user whose username,
email, names, post, comment and image carry a unique marker deletes their account; within
60 s no text of any PostgreSQL database of the instance, no String of any ClickHouse table and
no file of the media directory holds the marker, and no row is keyed by their id except the
tombstones that keep them erased; counts stay right. Then every topic is replayed from the
start into the consumers and the pipeline: nothing comes back."""
import os
import random
import time
import uuid

import psycopg2
import pytest
from confluent_kafka import Consumer, TopicPartition

from analytics_store.client import make_client
from imageboard.config import database_name, database_url, topic
from imageboard.erasure import USER_ID_FIELDS
from imageboard.events.envelope import ALL_TOPICS
from imageboard.events.kafka import client_config
from imageboard.media import media_root
from imageboard_ops import system
from tests.e2e.test_operations import nameko_shell, printed_json
from tests.imagefiles import png_bytes
from tests.stack import bearer

pytestmark = pytest.mark.e2e

ERASURE_DEADLINE = 60  # seconds, contract v2 section 6.3
# Rows keyed by an erased id that the erasure keeps on purpose: the ids alone, so later or
# replayed events of the id change nothing (docs/events.md, "Erasure").
TOMBSTONES = {"erased_users", "author_avatars"}
ID_COLUMNS = set(USER_ID_FIELDS) | {"actor_id"}
TEXT_TYPES = ("text", "character varying", "json", "jsonb", "bytea")
# The consumer groups that replay and their topics (without KAFKA_TOPIC_PREFIX).
GROUPS = {"posts": ("user-events",), "comments": ("post-events", "user-events"),
          "notifications": ("post-events", "comment-events", "user-events", "moderation-events"),
          "analytics-pipeline": tuple(ALL_TOPICS)}


def poll(check, timeout, what):
    """check() returns a falsy value when done, or what is still wrong; polled to a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        wrong = check()
        if not wrong:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout}s: {wrong}")
        time.sleep(0.5)


# ---- where the marker or the id could be left ------------------------------------------
def instance_databases(config):
    """The running stack's databases, one per service (other tests' private databases under
    the same prefix are not the stack's)."""
    wanted = {database_name(config, service) for service in config["SERVICES"]}
    with psycopg2.connect(database_url(config, "users")) as conn, conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database")
        names = [row[0] for row in cur.fetchall() if row[0] in wanted]  # analytics: ClickHouse
    conn.close()
    return names


def postgres_findings(config, marker, user_id):
    base = database_url(config, "users").rsplit("/", 1)[0]
    found = []
    for name in instance_databases(config):
        conn = psycopg2.connect(f"{base}/{name}")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                            "WHERE table_schema = 'public'")
                for table, column, data_type in cur.fetchall():
                    if data_type in TEXT_TYPES:
                        as_text = (f"encode(\"{column}\", 'escape')" if data_type == "bytea"
                                   else f"\"{column}\"::text")
                        cur.execute(f"SELECT count(*) FROM \"{table}\" WHERE {as_text} ILIKE %s",
                                    (f"%{marker}%",))
                        if cur.fetchone()[0]:
                            found.append(f"{name}.{table}.{column} holds the marker")
                    keyed = (column in ID_COLUMNS or (column == "id" and table in
                                                      ("users", "known_users")))
                    if keyed and data_type == "bigint" and table not in TOMBSTONES:
                        # The access log keeps the erasure itself (the id alone) for the JWT
                        # lifetime: every token of the id stays refused (imageboard/access).
                        kept = " AND kind <> 'erased'" if table == "access_changes" else ""
                        cur.execute(f"SELECT count(*) FROM \"{table}\" WHERE \"{column}\" = %s"
                                    + kept, (user_id,))
                        if cur.fetchone()[0]:
                            found.append(f"{name}.{table}.{column} = {user_id}")
                if _has_table(cur, "outbox"):
                    found += outbox_mentions(cur, name, user_id)
                if _has_table(cur, "notifications"):
                    cur.execute("SELECT count(*) FROM notifications WHERE data ->> 'actor_id' = %s",
                                (str(user_id),))
                    if cur.fetchone()[0]:
                        found.append(f"{name}.notifications caused by {user_id}")
        finally:
            conn.close()
    return found


def _has_table(cur, table):
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,))
    return cur.fetchone()[0]


def outbox_mentions(cur, database, user_id):
    """Outbox rows naming the user (actor or payload), except their own user.deleted: the
    event that carries the erasure, the id alone."""
    names = " OR ".join(f"body::jsonb -> 'payload' ->> '{f}' = %(uid)s" for f in USER_ID_FIELDS)
    cur.execute(f"SELECT event_type FROM outbox WHERE event_type != 'user.deleted' AND "
                f"(body::jsonb ->> 'actor_id' = %(uid)s OR {names})", {"uid": str(user_id)})
    return [f"{database}.outbox {row[0]} names {user_id}" for row in cur.fetchall()]


def clickhouse_findings(config, marker, user_id):
    client = make_client(config)
    found = []
    tables = {row[0] for row in client.execute(
        "SELECT name FROM system.tables WHERE database = currentDatabase() "
        "AND engine NOT IN ('View', 'MaterializedView')")}
    columns = client.execute("SELECT table, name, type FROM system.columns "
                             "WHERE database = currentDatabase()")
    for table, column, kind in columns:
        if table not in tables:
            continue
        if "String" in kind:
            count = client.execute(f"SELECT count() FROM {table} "
                                   f"WHERE position(lower(toString(`{column}`)), %(m)s) > 0",
                                   {"m": marker.lower()})[0][0]
            if count:
                found.append(f"clickhouse {table}.{column} holds the marker ({count})")
        if column in ID_COLUMNS and table not in TOMBSTONES:
            count = client.execute(f"SELECT count() FROM {table} WHERE `{column}` = %(u)s",
                                   {"u": user_id})[0][0]
            if count:
                found.append(f"clickhouse {table}.{column} = {user_id} ({count})")
    return found


def media_findings(config, marker, files):
    root = media_root(config)
    found = [f"{name} still stored" for name in files if os.path.exists(os.path.join(root, name))]
    for name in os.listdir(root) if os.path.isdir(root) else ():
        if marker.lower() in name.lower():
            found.append(f"media file name {name}")
        with open(os.path.join(root, name), "rb") as fh:
            if marker.encode() in fh.read():
                found.append(f"media file {name} holds the marker")
    return found


def everything_erased(config, marker, user_id, files):
    return (postgres_findings(config, marker, user_id) + clickhouse_findings(config, marker, user_id)
            + media_findings(config, marker, files))


# ---- the replay -------------------------------------------------------------------------
def partitions(config):
    probe = Consumer(client_config(config, **{"group.id": f"probe-{uuid.uuid4().hex}"}))
    try:
        out = []
        for name in ALL_TOPICS:
            metadata = probe.list_topics(topic(config, name), timeout=10).topics[topic(config, name)]
            out += [TopicPartition(topic(config, name), p) for p in metadata.partitions]
        ends = {(tp.topic, tp.partition): probe.get_watermark_offsets(tp, timeout=10)[1]
                for tp in out}
        return out, ends
    finally:
        probe.close()


def rewind_groups(config, tps):
    """Commit offset 0 of every partition for each (stopped, so empty) consumer group."""
    for group, names in GROUPS.items():
        consumer = Consumer(client_config(config, **{"group.id": topic(config, group),
                                                     "enable.auto.commit": False}))
        try:
            consumer.commit(offsets=[TopicPartition(tp.topic, tp.partition, 0)
                                     for tp in of_group(config, tps, names)], asynchronous=False)
        finally:
            consumer.close()


def of_group(config, tps, names):
    wanted = {topic(config, name) for name in names}
    return [tp for tp in tps if tp.topic in wanted]


def lagging_groups(config, tps, ends, groups=GROUPS):
    """The groups whose committed offsets have not reached the topics' ends yet."""
    lagging = []
    for group, names in groups.items():
        consumer = Consumer(client_config(config, **{"group.id": topic(config, group)}))
        try:
            committed = consumer.committed(of_group(config, tps, names), timeout=10)
        finally:
            consumer.close()
        behind = [f"{tp.topic}[{tp.partition}] {tp.offset}/{ends[(tp.topic, tp.partition)]}"
                  for tp in committed if ends[(tp.topic, tp.partition)] > max(tp.offset, 0)]
        if behind:
            lagging.append(f"{group}: {behind}")
    return lagging


# ---- the test ----------------------------------------------------------------------------
def test_deleting_an_account_erases_the_person_everywhere_and_a_replay_brings_nothing_back(
        api, register, config, stack):
    marker = f"mk{uuid.uuid4().hex[:12]}"
    victim = register(marker, email=f"{marker}@example.com", first_name=f"First{marker}",
                      last_name=f"Last{marker}")
    other = register("other")
    uid = victim["id"]

    other_post = api("POST", "/api/posts/", headers=bearer(other),
                     files={"title": (None, "neutral"), "content": (None, "neutral")}).json()
    image = png_bytes(size=(30 + random.randint(1, 200), 31))  # a file no other test stores
    own_post = api("POST", "/api/posts/", headers=bearer(victim), files={
        "title": (None, f"title {marker}"), "content": (None, f"content {marker}"),
        "image": ("a.png", image, "application/octet-stream")}).json()
    image_name = own_post["image_url"].rsplit("/", 1)[1]
    files = [image_name, image_name.replace(".", "_thumb.")]
    their_comment = api("POST", "/api/comments/", headers=bearer(victim), json={
        "post_id": other_post["id"], "content": f"comment {marker}"}).json()
    reply = api("POST", "/api/comments/", headers=bearer(other), json={
        "post_id": other_post["id"], "content": "a reply", "parent": their_comment["id"]}).json()
    api("POST", "/api/comments/", headers=bearer(victim), json={
        "post_id": own_post["id"], "content": f"on my own {marker}"})
    assert api("POST", f"/api/posts/{own_post['id']}/like/", headers=bearer(other)).json()["liked"]
    assert api("POST", f"/api/posts/{other_post['id']}/like/", headers=bearer(victim)).json()["liked"]

    # Everything has reached the notifications and ClickHouse before the deletion.
    def notified():
        messages = [n["message"] for n in
                    api("GET", "/api/notifications/", headers=bearer(other)).json()]
        return sum(marker in m for m in messages) < 2 and messages  # the like and the comment
    poll(notified, 30, "the other user was not notified of the victim's like and comment")
    stored = ("posts.title", "comments.author_username", "likes.username", "users.username")
    poll(lambda: [t for t in stored if not any(t in f for f in clickhouse_findings(
        config, marker, uid))], 60, "the pipeline did not store the victim's events")

    wrong = api("DELETE", "/api/users/me/", headers=bearer(victim), json={"password": "nope1234"})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["code"] == "invalid_password"
    assert "password" in wrong.json()["error"]["fields"]
    missing = api("DELETE", "/api/users/me/", headers=bearer(victim), json={})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "missing_fields"

    deleted_at = time.monotonic()
    assert api("DELETE", "/api/users/me/", headers=bearer(victim),
               json={"password": "password1"}).status_code == 204
    assert api("GET", f"/api/users/profile/{uid}/").status_code == 404
    login = api("POST", "/api/users/login/", json={"username": victim["username"],
                                                   "password": "password1"})
    assert login.status_code == 401
    assert login.json()["error"]["code"] == "invalid_credentials"

    def counts_wrong():
        post = api("GET", f"/api/posts/{other_post['id']}/").json()
        thread = api("GET", f"/api/comments/?post_id={other_post['id']}").json()
        expected = [{"id": their_comment["id"], "author": None, "content": "",
                     "is_deleted": True}, {"id": reply["id"], "is_deleted": False}]
        shown = [{k: c.get(k) for k in want} for want, c in zip(expected, thread)]
        problems = []
        if (post["likes_count"], post["likes"], post["comments_count"]) != (0, [], 1):
            problems.append(("post", post["likes_count"], post["likes"], post["comments_count"]))
        if len(thread) != 2 or shown != expected:
            problems.append(("thread", thread))
        if api("GET", f"/api/posts/{own_post['id']}/").status_code != 404:
            problems.append("their post is still there")
        return problems

    poll(counts_wrong, ERASURE_DEADLINE, "counts not right")
    poll(lambda: everything_erased(config, marker, uid, files), ERASURE_DEADLINE,
         "not erased within 60 s")
    erased_after = time.monotonic() - deleted_at
    print(f"erased everywhere {erased_after:.1f} s after the 204")
    activity = api("GET", f"/api/analytics/user-activity/?user_id={uid}", headers=bearer(other))
    assert activity.status_code == 404

    # Replay: stop the consumers, rewind their groups to the first offset, start again.
    tps, ends = partitions(config)
    system.stop(config, keep_infra=True)
    rewind_groups(config, tps)
    assert len(lagging_groups(config, tps, ends)) == len(GROUPS)  # every group starts over
    system.start(config, with_infra=False)
    poll(lambda: lagging_groups(config, tps, ends), 120, "the replay did not finish")
    assert everything_erased(config, marker, uid, files) == []
    assert counts_wrong() == []

    # Username and email are free again (decision 22).
    again = api("POST", "/api/users/register/", json={
        "username": victim["username"], "email": f"{marker}@example.com", "password": "password1"})
    assert again.status_code == 201, again.text
    assert again.json()["id"] != uid


def test_operators_delete_an_account_from_the_cli_and_from_nameko_shell(api, register, config):
    import subprocess

    from imageboard import PROJECT_ROOT
    from imageboard_ops.processes import BIN

    by_cli, by_shell = register("cli"), register("shell")
    done = subprocess.run([os.path.join(BIN, "imageboard"), "delete-user", by_cli["username"]],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f'"id": {by_cli["id"]}' in done.stdout
    output = nameko_shell(f"""
import json
print("DELETED", json.dumps(n.rpc.users.delete_user("{by_shell['username']}")))
""")
    assert printed_json(output, "DELETED ") == {"id": by_shell["id"],
                                                "username": by_shell["username"], "deleted": True}
    for user in (by_cli, by_shell):
        assert api("GET", f"/api/users/profile/{user['id']}/").status_code == 404
    missing = subprocess.run([os.path.join(BIN, "imageboard"), "delete-user", "nobody_at_all_x"],
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1
    assert "No user named" in missing.stderr


def test_every_topic_of_the_stack_keeps_events_kafka_retention_hours(config, stack):
    """The bound on how long usernames and titles in old events live (docs/events.md,
    "Erasure"): every topic of the catalogue, as the running stack created them."""
    from confluent_kafka.admin import AdminClient, ConfigResource

    from imageboard.events.kafka import retention_ms

    admin = AdminClient(client_config(config))
    futures = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic(config, name))
                                      for name in ALL_TOPICS])
    retention = {resource.name: future.result(timeout=10)["retention.ms"].value
                 for resource, future in futures.items()}
    assert retention == {topic(config, name): str(retention_ms(config)) for name in ALL_TOPICS}
    assert retention_ms(config) == round(config["KAFKA_RETENTION_HOURS"] * 3_600_000)


def test_erasure_waits_out_a_stopped_service_and_finishes_when_it_is_back(api, register, config):
    """Resumed after outages (contract v2 section 6.3): with the posts and comments services
    and the pipeline stopped, the deletion still answers 204 and the user is gone; their posts
    and comments go once the services consume user.deleted after their restart."""
    from imageboard_ops import processes

    victim, other = register("outage"), register("outage_other")
    post = api("POST", "/api/posts/", headers=bearer(victim),
               files={"title": (None, "soon gone"), "content": (None, "c")}).json()
    other_post = api("POST", "/api/posts/", headers=bearer(other),
                     files={"title": (None, "stays"), "content": (None, "c")}).json()
    comment = api("POST", "/api/comments/", headers=bearer(victim),
                  json={"post_id": other_post["id"], "content": "soon gone"}).json()
    # The consumers are running and caught up first: tansu (the development broker) leaves
    # a group without assignments for a long time when its only member left mid-join.
    tps, ends = partitions(config)
    consumers = {name: GROUPS[name] for name in ("posts", "comments", "analytics-pipeline")}
    poll(lambda: lagging_groups(config, tps, ends, consumers), 60, "consumers not caught up")
    stopped = [processes.service_process("posts"), processes.service_process("comments"),
               processes.pipeline_process()]
    for spec in stopped:
        processes.stop(spec.name)
    try:
        assert api("DELETE", "/api/users/me/", headers=bearer(victim),
                   json={"password": "password1"}).status_code == 204
        # The profile asks posts and comments for counts: the login is the users' alone.
        login = api("POST", "/api/users/login/", json={"username": victim["username"],
                                                       "password": "password1"})
        assert login.status_code == 401
    finally:
        for spec in stopped:
            processes.start(spec)

    def left():
        wrong = []
        if api("GET", f"/api/posts/{post['id']}/").status_code != 404:
            wrong.append("their post")
        thread = api("GET", f"/api/comments/?post_id={other_post['id']}")
        if thread.status_code != 200 or thread.json() != []:
            wrong.append(("their comment", comment["id"], thread.text))
        return wrong
    poll(left, ERASURE_DEADLINE + 30, "the erasure did not resume")  # + the restart
    assert api("GET", f"/api/posts/{other_post['id']}/").json()["comments_count"] == 0

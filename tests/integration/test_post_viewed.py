"""post.viewed is best effort: published from get_post without an outbox row, and a
Kafka outage neither fails nor slows the read."""
import time

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.posts.service import PostsService
from tests.event_schemas import validate_event
from tests.integration.kafka_support import read_topic

pytestmark = pytest.mark.integration


def start_posts(config, container_factory, migrated):
    migrated("posts")
    container_factory(PostsService, config).start()
    return ServiceRpcProxy("posts", config, timeout=10)


def author(unique):
    user_id = int(unique[:7], 16) + 10**9
    return {"id": user_id, "username": f"u{user_id}", "is_admin": False}


def test_views_reach_analytics_events(service_config, container_factory, migrated, unique):
    config = dict(service_config, KAFKA_TOPIC_PREFIX=f"{service_config['KAFKA_TOPIC_PREFIX']}{unique}-")
    with start_posts(config, container_factory, migrated) as posts:
        post = posts.create_post({"title": "Seen", "content": "x"}, author(unique))
        posts.get_post(post["id"], 7)
        posts.get_post(post["id"])
    views = read_topic(config, "analytics-events", 2, keep=lambda e: e["key"] == str(post["id"]))
    assert sorted(str(e["payload"]["viewer_id"]) for _, e in views) == ["7", "None"]
    for _, event in views:
        validate_event(event)


def test_reads_do_not_wait_for_a_dead_broker(service_config, container_factory, migrated, unique):
    config = dict(service_config, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")  # nothing listens
    with start_posts(config, container_factory, migrated) as posts:
        post = posts.create_post({"title": "Unseen", "content": "x"}, author(unique))
        started = time.monotonic()
        for _ in range(20):
            assert posts.get_post(post["id"], 7)["id"] == post["id"]
        elapsed = time.monotonic() - started
    # Local RPC round trips only; waiting on the broker would take seconds per read.
    assert elapsed < 4, f"20 reads took {elapsed:.2f} s"

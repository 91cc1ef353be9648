"""The event envelope, its JSON Schemas and the catalogue in docs/events.md agree."""
import json
import os

import jsonschema
import pytest

from imageboard import PROJECT_ROOT
from imageboard.events.envelope import (TOPICS, MalformedEvent, make_event, parse_event,
                                        schema_path)
from tests.event_schemas import schema_for, validate_event

SAMPLE_PAYLOADS = {
    "user.registered": {"user_id": 7, "username": "alice"},
    "user.logged_in": {"user_id": 7, "username": "alice"},
    "post.created": {"post_id": 42, "author_id": 7, "author_username": "alice",
                     "title": "Sunset", "has_image": True},
    "post.deleted": {"post_id": 42, "author_id": 7, "title": "Sunset", "deleted_by": 1},
    "post.liked": {"post_id": 42, "post_author_id": 7, "post_title": "Sunset",
                   "user_id": 8, "username": "bob", "likes_count": 3},
    "post.unliked": {"post_id": 42, "post_author_id": 7, "post_title": "Sunset",
                     "user_id": 8, "username": "bob", "likes_count": 2},
    "comment.created": {"comment_id": 5, "post_id": 42, "post_author_id": 7,
                        "post_title": "Sunset", "parent_id": None, "parent_author_id": None,
                        "author_id": 8, "author_username": "bob"},
    "notification.created": {"notification_id": 3, "user_id": 7, "notification_type": "LIKE",
                             "source_event_id": "0b7c35c6-6d3f-4a0e-a1b4-5bd1e3e8d7a1"},
    "notification.read": {"notification_id": 3, "user_id": 7},
    "post.viewed": {"post_id": 42, "viewer_id": None},
}


def test_every_event_type_has_a_valid_schema_and_a_catalogue_row():
    with open(os.path.join(PROJECT_ROOT, "docs", "events.md")) as fh:
        catalogue = fh.read()
    assert set(SAMPLE_PAYLOADS) == set(TOPICS)
    for event_type, topic_name in TOPICS.items():
        schema = schema_for(event_type)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["properties"]["type"]["const"] == event_type
        assert f"| {event_type} | {topic_name} |" in catalogue
        # The catalogue names exactly the payload fields the schema requires.
        row = next(line for line in catalogue.splitlines() if line.startswith(f"| {event_type} |"))
        documented = {f.strip().split(" ")[0] for f in row.split("|")[4].split(",")}
        assert documented == set(schema["properties"]["payload"]["required"]), event_type


@pytest.mark.parametrize("event_type", sorted(TOPICS))
def test_make_event_output_matches_its_schema(event_type):
    event = make_event(event_type, 42, 7, SAMPLE_PAYLOADS[event_type])
    validate_event(event)
    assert parse_event(json.dumps(event).encode()) == event


def test_schemas_reject_what_consumers_could_not_use():
    event = make_event("post.liked", 42, 8, dict(SAMPLE_PAYLOADS["post.liked"]))
    for broken in (
        dict(event, version=2),
        dict(event, key="post-42"),
        dict(event, occurred_at="2026-11-27T14:32:42"),  # no UTC offset
        dict(event, payload={k: v for k, v in event["payload"].items() if k != "post_author_id"}),
        dict(event, payload=dict(event["payload"], user_id="8")),
        dict(event, extra=True),
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate_event(broken)


def test_make_event_refuses_unknown_types():
    with pytest.raises(ValueError):
        make_event("post.shared", 1, 1, {})


@pytest.mark.parametrize("raw, reason", [
    (b"{not json", "not JSON"),
    (None, "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"type": "post.liked"}', "missing envelope fields"),
    (json.dumps(dict(make_event("post.liked", 1, 1, {}), type="post.shared")).encode(), "unknown event type"),
    (json.dumps(dict(make_event("post.liked", 1, 1, {}), payload=[])).encode(), "payload is not an object"),
    (json.dumps(dict(make_event("post.liked", 1, 1, {}), event_id="42")).encode(), "not a UUID"),
])
def test_parse_event_names_what_is_wrong(raw, reason):
    with pytest.raises(MalformedEvent, match=reason):
        parse_event(raw)


def test_schema_files_are_named_by_type():
    for event_type in TOPICS:
        assert os.path.exists(schema_path(event_type))

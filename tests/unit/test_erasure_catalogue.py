"""Contract v2 section 6.3: no event payload of any type holds an email, a password or its
hash, a token or a ticket; and every payload field holding a user id is known to the erasure
(imageboard/erasure.py), so outbox purges and the pipeline's filter find every mention."""
import re

import msgspec

from contracts import events as ev
from imageboard.erasure import USER_ID_FIELDS

# Parts of a field name that would mean secrets or addresses in a payload.
FORBIDDEN = re.compile(r"mail|pass|hash|token|ticket|secret|jti|credential", re.I)
# Id-like fields that hold the id of something other than a user.
OTHER_IDS = {"post_id", "comment_id", "parent_id", "notification_id", "report_id", "target_id",
             "source_event_id"}


def payload_fields():
    for entry in ev.CATALOGUE:
        for field in msgspec.inspect.type_info(entry.payload).fields:
            yield entry.type, field.name


def test_no_payload_field_names_a_secret_or_an_address():
    bad = [(t, name) for t, name in payload_fields() if FORBIDDEN.search(name)]
    assert bad == []


def test_the_forbidden_pattern_catches_what_it_guards_against():
    for name in ("email", "password_hash", "token", "ticket", "new_password", "jti"):
        assert FORBIDDEN.search(name), name
    assert not FORBIDDEN.search("username")


def test_every_id_like_payload_field_is_classified_for_erasure():
    unknown = sorted({name for _, name in payload_fields()
                      if (name.endswith("_id") or name.endswith("_by"))
                      and name not in USER_ID_FIELDS and name not in OTHER_IDS})
    assert unknown == []


def test_the_new_user_events_are_declared_as_the_contract_says():
    assert ev.CATALOGUE.get("user.deleted", 1).topic == "user-events"
    assert [f for f, _ in ev.CATALOGUE.get("user.deleted", 1).fields()] == ["user_id"]
    assert [f for f, _ in ev.CATALOGUE.get("comment.deleted", 1).fields()] == [
        "comment_id", "post_id", "author_id", "deleted_by", "placeholder", "unlisted"]
    assert [f for f, _ in ev.CATALOGUE.get("user.updated", 1).fields()] == [
        "user_id", "username", "fields", "avatar"]

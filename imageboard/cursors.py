"""Opaque, signed cursors of keyset pagination (contract v2 section 3.6).

A cursor names one list (its scope: "posts:-created_at", "comments:12"), a direction
("next" or "prev") and a key: the (created_at, id) of the row the page starts after
or ends before. It is base64url JSON plus an HMAC-SHA256 tag under a key derived from
JWT_SECRET, so clients can neither forge nor alter one; a cursor of another list or
ordering carries another scope. Every failure is the one error, InvalidCursor (400).

    token = encode(secret, "posts:-created_at", "next", ("2026-12-07T15:01:07.123456+00:00", 41))
    direction, key = decode(secret, "posts:-created_at", token)
"""
import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime

from contracts.errors import InvalidCursor

DIRECTIONS = ("next", "prev")
MAX_LENGTH = 400  # far above any cursor made here; refuses big inputs before any work
_TAG_BYTES = 16


def _key(secret):
    # A key of its own: a cursor's tag must never double as anything signed with the secret.
    return hmac.new(secret.encode(), b"imageboard keyset cursor v1", hashlib.sha256).digest()


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(secret, scope, direction, key):
    created_at, row_id = key
    body = json.dumps([scope, direction, created_at, row_id], separators=(",", ":")).encode()
    tag = hmac.new(_key(secret), body, hashlib.sha256).digest()[:_TAG_BYTES]
    return f"{_b64(body)}.{_b64(tag)}"


def decode(secret, scope, token):
    """(direction, (created_at, id)) of a cursor made by encode for this scope."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH or token.count(".") != 1:
        raise InvalidCursor()
    body_text, tag_text = token.split(".")
    try:
        body, tag = _unb64(body_text), _unb64(tag_text)
    except (binascii.Error, ValueError):
        raise InvalidCursor() from None
    expected = hmac.new(_key(secret), body, hashlib.sha256).digest()[:_TAG_BYTES]
    if not hmac.compare_digest(tag, expected):
        raise InvalidCursor()
    try:
        their_scope, direction, created_at, row_id = json.loads(body)
    except (ValueError, TypeError):
        raise InvalidCursor() from None
    if their_scope != scope:
        raise InvalidCursor("This cursor belongs to another list or ordering")
    if direction not in DIRECTIONS or not is_key_id(row_id) or not _is_time(created_at):
        raise InvalidCursor()
    return direction, (created_at, row_id)


def is_key_id(value):
    # 0 too: a page boundary one step beside id 1 (imageboard/keyset.py, inclusive keys).
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def _is_time(value):
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def check_key(key):
    """For the services: a key as the gateway sends it over RPC, or InvalidCursor."""
    if (not isinstance(key, (list, tuple)) or len(key) != 2 or not _is_time(key[0])
            or not is_key_id(key[1])):
        raise InvalidCursor()
    return key[0], key[1]

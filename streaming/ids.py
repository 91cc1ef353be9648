"""Event ids are positions: `<topic letter><partition>-<offset>` for every partition the
process reads, joined by ".", e.g. `p0-417.p1-12.p2-9.c0-88.c1-3.c2-40.n0-7.n1-0.n2-2`.

An event's id is the head of every partition when it was sent (the offset of the last
event sent from each), so "every later event" is "every event past these offsets", the
same on every stream process: each reads the same partitions (no consumer group), and
within a partition events are sent in offset order. A process that is behind the id skips
what the client already had; one that no longer holds (or never held) the events after it
sends `reset`.
"""
import re

TOPIC_LETTERS = {"post-events": "p", "comment-events": "c", "notification-events": "n",
                 "moderation-events": "m", "user-events": "u"}
_PART = re.compile(r"^([a-z])(\d{1,4})-(-1|\d{1,19})$")
MAX_ID_LENGTH = 512


def tp_name(topic_base, partition):
    return f"{TOPIC_LETTERS[topic_base]}{partition}"


def encode(positions):
    """{tp: offset} -> id string (sorted, so equal positions give equal ids)."""
    return ".".join(f"{tp}-{offset}" for tp, offset in sorted(positions.items()))


def decode(text):
    """id string -> {tp: offset}, or None when it is not one of ours."""
    if not text or len(text) > MAX_ID_LENGTH:
        return None
    positions = {}
    for part in text.strip().split("."):
        match = _PART.match(part)
        if match is None:
            return None
        positions[match.group(1) + match.group(2)] = int(match.group(3))
    return positions

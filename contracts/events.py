"""The event catalogue: every domain event, declared once.

Each event type is one payload model below (a msgspec Struct), registered with `@event(...)`
under its type name, version, topic and what its Kafka key is. The envelope is `Event`.
Everything else is derived from these declarations:

- producers build events from the models (`new_event`), which refuses a payload the
  catalogue does not declare (imageboard/events/outbox.py, publisher.py);
- every consumer parses with `decode` (the notifications service's Kafka entrypoint, the
  analytics pipeline, the tests), which returns a typed `Event[PostLiked]` or raises
  `InvalidEvent(kind, reason)`: the consumers dead-letter those (docs/events.md);
- the topics (imageboard/events/envelope.py), the JSON Schema files in
  imageboard/events/schemas/ and the table of types in docs/events.md are generated from
  it (`python -m imageboard.events.catalogue_files`; a unit test checks they are current).

    from contracts import events as ev
    event = ev.new_event(ev.PostLiked(post_id=42, post_author_id=7, post_title="Sunset",
                                      user_id=8, username="bob", likes_count=3),
                         key=42, actor_id=8)
    raw = ev.encode(event)            # the JSON bytes on the wire
    ev.decode(raw) == event           # Event[PostLiked]; payload fields are attributes

msgspec, not pydantic: decoding and validating a message with msgspec costs ~1.5 us, a
third of what json.loads alone costs and half of pydantic's validate_json
(docs/events.md, "Why msgspec"); the pipeline parses every event of every topic.

Versioning: payloads may gain optional fields within a version (consumers ignore fields
they do not know); removing or changing a field is a new version, declared as a new model
with the same type name and `version=2`. A consumer reads exactly the (type, version) pairs
declared here; any other is an `unsupported_version` dead letter, never a guess.
"""
import inspect
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Annotated, ClassVar, Generic, Literal, Optional, TypeVar

import msgspec
from msgspec import Meta, Struct

# ---- field types ---------------------------------------------------------------------
MAX_ID = 2**63 - 1  # PostgreSQL bigint; also keeps every id inside ClickHouse's UInt64/Int64
Id = Annotated[int, Meta(ge=1, le=MAX_ID)]           # a positive id
Count = Annotated[int, Meta(ge=0, le=MAX_ID)]        # a non-negative count
Text = Annotated[str, Meta(min_length=1)]            # a non-empty string
# The Kafka key: the aggregate id (post id or user id) as a decimal string.
Key = Annotated[str, Meta(pattern=r"^[1-9][0-9]{0,18}$")]
# Any UTC offset is read; producers always write +00:00 (contract decision 2).
Timestamp = Annotated[datetime, Meta(tz=True)]
NotificationType = Literal["LIKE", "COMMENT", "REPLY", "SYSTEM"]

# ---- why a message is refused: InvalidEvent.kind (a metric label, so few values) -------
NOT_JSON = "not_json"                         # empty, not JSON, not a JSON object
BAD_ENVELOPE = "bad_envelope"                 # an envelope field missing, extra or mistyped
UNKNOWN_TYPE = "unknown_type"                 # a type the catalogue does not declare
UNSUPPORTED_VERSION = "unsupported_version"   # a known type in a version not declared
BAD_PAYLOAD = "bad_payload"                   # a payload field missing or mistyped

ENVELOPE_FIELDS = ("event_id", "type", "version", "occurred_at", "actor_id", "key", "payload")


class InvalidEvent(ValueError):
    """A message or payload the catalogue refuses. `kind` is one of the five above, `reason` says
    what is wrong (e.g. "payload.post_id: Expected `int`, got `str`"); `type` is the
    envelope's type when it could be read."""

    MAX_TEXT = 500  # a hostile message must not make a huge reason (logs, dead letters)

    def __init__(self, kind, reason, type=None):
        reason = reason if len(reason) <= self.MAX_TEXT else reason[:self.MAX_TEXT] + "..."
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason
        self.type = type[:self.MAX_TEXT] if isinstance(type, str) else None


class Payload(Struct, frozen=True, kw_only=True, gc=False):
    """Base of every payload model. Unknown fields are ignored when decoding (a newer
    producer may add optional ones); a missing or mistyped field is refused."""

    # Set by @event: the catalogue entry of this model.
    spec: ClassVar["EventType"]


P = TypeVar("P", bound=Payload)


class Event(Struct, Generic[P], frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """The envelope every producer writes and every consumer reads:

        {"event_id": "<uuid4>", "type": "post.liked", "version": 1,
         "occurred_at": "2026-11-27T14:32:42.123456+00:00", "actor_id": 7,
         "key": "42", "payload": {...}}
    """

    event_id: Annotated[uuid.UUID, Meta(description="unique; consumers deduplicate on it")]
    type: Annotated[str, Meta(description="the event type, e.g. post.liked")]
    version: Annotated[int, Meta(description="version of this type's payload")]
    occurred_at: Annotated[Timestamp, Meta(description="when the change was committed")]
    actor_id: Annotated[Optional[Count], Meta(
        description="the user who caused it (null for system events)")]
    key: Annotated[Key, Meta(
        description="aggregate id; also the Kafka message key (order holds per key)")]
    payload: Annotated[P, Meta(description="everything consumers need without calling back")]


@dataclass(frozen=True)
class EventType:
    """One entry of the catalogue: a (type, version) pair and what it is."""

    type: str
    version: int
    topic: str          # without KAFKA_TOPIC_PREFIX
    key: str            # what the Kafka key is: "post id", "user id"
    payload: type
    description: str
    best_effort: bool = False  # published straight to Kafka, no outbox row
    decoder: msgspec.json.Decoder = field(default=None, repr=False, compare=False)

    def fields(self):
        """[(name, readable type)] of the payload, in declaration order."""
        info = msgspec.inspect.type_info(self.payload)
        return [(f.name, _readable(f.type)) for f in info.fields]


def _readable(t):
    """A field's type as docs/events.md names it: id, count, text, bool, uuid, ... or null."""
    if isinstance(t, msgspec.inspect.Metadata):
        return _readable(t.type)
    if isinstance(t, msgspec.inspect.UnionType):
        parts = [_readable(x) for x in t.types if not isinstance(x, msgspec.inspect.NoneType)]
        return " or ".join(parts) + (" or null" if t.includes_none else "")
    if isinstance(t, msgspec.inspect.IntType):
        return "id" if t.ge == 1 else ("count" if t.ge == 0 else "int")
    if isinstance(t, msgspec.inspect.StrType):
        return "text" if t.min_length else "string"
    if isinstance(t, msgspec.inspect.BoolType):
        return "bool"
    if isinstance(t, msgspec.inspect.UUIDType):
        return "uuid"
    if isinstance(t, msgspec.inspect.ListType):
        return f"list of {_readable(t.item_type)}"
    if isinstance(t, msgspec.inspect.LiteralType):
        return "/".join(str(v) for v in t.values)
    return type(t).__name__.replace("Type", "").lower()


class Catalogue:
    """Every declared (type, version), in declaration order."""

    def __init__(self):
        self._entries = {}      # (type, version) -> EventType
        self._by_payload = {}   # payload model -> EventType

    def add(self, entry):
        if (entry.type, entry.version) in self._entries:
            raise ValueError(f"{entry.type} version {entry.version} is declared twice")
        for other in self._entries.values():
            if other.type == entry.type and other.topic != entry.topic:
                raise ValueError(f"every version of {entry.type} goes to one topic")
        self._entries[(entry.type, entry.version)] = entry
        self._by_payload[entry.payload] = entry

    def __iter__(self):
        return iter(self._entries.values())

    def __len__(self):
        return len(self._entries)

    def get(self, event_type, version):
        return self._entries.get((event_type, version))

    def of(self, payload_model):
        """The entry of a payload model (class), or InvalidEvent."""
        entry = self._by_payload.get(payload_model)
        if entry is None:
            raise InvalidEvent(UNKNOWN_TYPE, f"{payload_model!r} is not a payload model of the catalogue")
        return entry

    def latest(self, event_type):
        versions = [e for (t, _), e in self._entries.items() if t == event_type]
        if not versions:
            raise InvalidEvent(UNKNOWN_TYPE, f"unknown event type {event_type!r}", event_type)
        return max(versions, key=lambda e: e.version)

    def types(self):
        """Every type name, in declaration order."""
        return list(dict.fromkeys(t for t, _ in self._entries))

    def topics(self):
        """{type: topic} (without KAFKA_TOPIC_PREFIX)."""
        return {e.type: e.topic for e in self}

    def refusal(self, event_type, version):
        """The InvalidEvent of a (type, version) that is not declared."""
        known = sorted(v for (t, v) in self._entries if t == event_type)
        if not known:
            return InvalidEvent(UNKNOWN_TYPE, f"unknown event type {event_type!r}", event_type)
        return InvalidEvent(UNSUPPORTED_VERSION, f"unsupported version {version} of {event_type} "
                            f"(declared: {', '.join(map(str, known))})", event_type)


CATALOGUE = Catalogue()


def event(type, version, topic, key, best_effort=False):
    """Class decorator: declares a payload model as (type, version) of the catalogue."""
    def declare(model):
        entry = EventType(type=type, version=version, topic=topic, key=key, payload=model,
                          description=inspect.cleandoc(model.__doc__ or ""),
                          best_effort=best_effort,
                          decoder=msgspec.json.Decoder(Event[model]))
        CATALOGUE.add(entry)
        model.spec = entry
        return model
    return declare


# ---- the catalogue -------------------------------------------------------------------
@event("user.registered", 1, "user-events", key="user id")
class UserRegistered(Payload):
    """A user registered; notifications sends a SYSTEM welcome and learns the username."""

    user_id: Id
    username: Text


@event("user.logged_in", 1, "user-events", key="user id")
class UserLoggedIn(Payload):
    """A user logged in."""

    user_id: Id
    username: Text


@event("user.updated", 1, "user-events", key="user id")
class UserUpdated(Payload):
    """A user changed their profile or avatar; `fields` names what changed (first_name, last_name, bio, email, avatar), never a value (no email in events); `avatar` is the current avatar's file name under MEDIA_URL, or null."""

    user_id: Id
    username: Text
    fields: list[Text]
    avatar: Optional[Text]


@event("user.deleted", 1, "user-events", key="user id")
class UserDeleted(Payload):
    """A user deleted their account: every service erases what it holds of user_id and remembers the id, so later or replayed events never bring it back (docs/events.md, "Erasure")."""  # noqa: E501

    user_id: Id


@event("post.created", 1, "post-events", key="post id")
class PostCreated(Payload):
    """A post was created."""

    post_id: Id
    author_id: Id
    author_username: Text
    title: Text
    has_image: bool


@event("post.deleted", 1, "post-events", key="post id")
class PostDeleted(Payload):
    """A post was deleted (with its comments and likes) by its author or an admin."""

    post_id: Id
    author_id: Id
    title: Text
    deleted_by: Id


class _LikeToggle(Payload):
    post_id: Id
    post_author_id: Id
    post_title: Text
    user_id: Id
    username: Text
    likes_count: Count  # the post's likes after this toggle


@event("post.liked", 1, "post-events", key="post id")
class PostLiked(_LikeToggle):
    """A user liked a post; the post author gets a LIKE notification unless it is their own post."""


@event("post.unliked", 1, "post-events", key="post id")
class PostUnliked(_LikeToggle):
    """A user took back their like."""


@event("comment.created", 1, "comment-events", key="post id")
class CommentCreated(Payload):
    """A comment was written; parent_id/parent_author_id are set for a reply."""

    comment_id: Id
    post_id: Id
    post_author_id: Id
    post_title: Text
    parent_id: Optional[Id]
    parent_author_id: Optional[Id]
    author_id: Id
    author_username: Text


@event("comment.deleted", 1, "comment-events", key="post id")
class CommentDeleted(Payload):
    """A comment was deleted (by its author, an admin, or its author's account erasure); placeholder: it stays listed without author and content because it has replies."""  # noqa: E501

    comment_id: Id
    post_id: Id
    author_id: Id
    deleted_by: Id
    placeholder: bool


@event("notification.created", 1, "notification-events", key="user id")
class NotificationCreated(Payload):
    """A notification was stored for user_id."""

    notification_id: Id
    user_id: Id
    notification_type: NotificationType
    source_event_id: uuid.UUID


@event("notification.read", 1, "notification-events", key="user id")
class NotificationRead(Payload):
    """A user marked a notification read."""

    notification_id: Id
    user_id: Id


@event("post.viewed", 1, "analytics-events", key="post id", best_effort=True)
class PostViewed(Payload):
    """A post's detail was read; viewer_id is null for anonymous readers."""

    post_id: Id
    viewer_id: Optional[Id]


# ---- moderation (contract v2 section 8.1): topic moderation-events -------------------
TargetType = Literal["post", "comment"]
ReportReason = Literal["spam", "abuse", "illegal", "other"]
ResolveAction = Literal["dismiss", "remove", "ban"]


@event("report.created", 1, "moderation-events", key="report id")
class ReportCreated(Payload):
    """A user reported a post or comment (report details stay out of events, decision 32)."""

    report_id: Id
    target_type: TargetType
    target_id: Id
    post_id: Id
    target_author_id: Optional[Id]
    reporter_id: Id
    reason: ReportReason


@event("report.resolved", 1, "moderation-events", key="report id")
class ReportResolved(Payload):
    """An admin resolved a report (dismiss, remove or ban); reported_at is the report's creation time."""

    report_id: Id
    target_type: TargetType
    target_id: Id
    action: ResolveAction
    resolved_by: Id
    reported_at: Timestamp


@event("content.removed", 1, "moderation-events", key="post id")
class ContentRemoved(Payload):
    """An admin removed a post or comment; report_id is set when a report's resolution removed it (null: a direct removal, which resolves every open report on the item)."""  # noqa: E501

    target_type: TargetType
    target_id: Id
    post_id: Id
    post_title: Text
    author_id: Id
    reason: Text
    removed_by: Id
    report_id: Optional[Id]


@event("content.restored", 1, "moderation-events", key="post id")
class ContentRestored(Payload):
    """An admin restored a removed post or comment."""

    target_type: TargetType
    target_id: Id
    post_id: Id
    post_title: Text
    author_id: Id
    reason: Text
    restored_by: Id


@event("user.banned", 1, "moderation-events", key="user id")
class UserBanned(Payload):
    """An admin banned user_id until expires_at (null: permanently); a re-ban replaces the ban."""

    user_id: Id
    reason: Text
    expires_at: Optional[Timestamp]
    banned_by: Id
    report_id: Optional[Id]


@event("user.unbanned", 1, "moderation-events", key="user id")
class UserUnbanned(Payload):
    """An admin lifted user_id's ban before its expiry (a ban's natural end has no event)."""

    user_id: Id
    reason: str
    unbanned_by: Id


# ---- building, encoding, decoding ------------------------------------------------------
_ENCODER = msgspec.json.Encoder()


class _Head(Struct):
    """What decode reads first to pick the (type, version) decoder."""

    type: str
    version: int


_HEAD = msgspec.json.Decoder(_Head)


def new_event(payload, key, actor_id, occurred_at=None, event_id=None):
    """The envelope of one payload model instance, validated as consumers will read it
    (a Struct does not check its field types when built): raises InvalidEvent for a
    payload the catalogue does not declare, TypeError for a missing field."""
    if not isinstance(payload, Payload):
        raise TypeError(f"payload must be a catalogue payload model, not {type(payload).__name__}")
    entry = CATALOGUE.of(type(payload))
    built = Event(event_id=event_id or uuid.uuid4(), type=entry.type, version=entry.version,
                  occurred_at=occurred_at or datetime.now(timezone.utc), actor_id=actor_id,
                  key=str(key), payload=payload)
    try:
        return entry.decoder.decode(encode(built))
    except msgspec.ValidationError as exc:
        raise _refusal(exc, entry.type)


def payload_from_dict(event_type, fields, version=None):
    """The payload model of `event_type` (its latest version, or `version`) from a dict,
    validated: for tests and tools that hold plain data. InvalidEvent if it does not fit."""
    entry = CATALOGUE.latest(event_type) if version is None else CATALOGUE.get(event_type, version)
    if entry is None:
        raise CATALOGUE.refusal(event_type, version)
    try:
        return msgspec.convert(fields, entry.payload)
    except msgspec.ValidationError as exc:
        raise _refusal(exc, event_type, within="payload")


def encode(event):
    """The JSON bytes of an Event, as published. occurred_at is written in UTC with a
    +00:00 offset (msgspec would write "Z"): the wire format predates the catalogue."""
    occurred = event.occurred_at
    if isinstance(occurred, datetime):
        occurred = occurred.astimezone(timezone.utc).isoformat()
    return _ENCODER.encode(msgspec.structs.replace(event, occurred_at=occurred))


def as_dict(event):
    """The envelope as the plain dict its JSON decodes to (for tests and tooling)."""
    return json.loads(encode(event))


def decode(raw):
    """One Kafka message value (bytes or str) -> a typed Event, or raises InvalidEvent."""
    if not raw:
        raise InvalidEvent(NOT_JSON, "empty message")
    try:
        head = _HEAD.decode(raw)
    except msgspec.ValidationError as exc:
        raise _envelope_refusal(raw, exc)
    except msgspec.DecodeError as exc:
        raise InvalidEvent(NOT_JSON, f"not JSON: {exc}")
    entry = CATALOGUE.get(head.type, head.version)
    if entry is None:
        raise CATALOGUE.refusal(head.type, head.version)
    try:
        return entry.decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise _refusal(exc, head.type, raw)


_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<name>[^`]+)`$")


def _refusal(exc, event_type, raw=None, within=""):
    """A msgspec ValidationError as an InvalidEvent naming the field (payload.post_id);
    `within`: where the validated value sits in the envelope."""
    match = _AT.match(str(exc))
    message = match["message"]
    path = ".".join(p for p in (within, (match["path"] or "").lstrip(".")) if p)
    missing = _MISSING.match(message)
    if missing:
        path = f"{path}.{missing['name']}".lstrip(".")
        message = "missing"
    if path == "payload" or path.startswith("payload."):
        return InvalidEvent(BAD_PAYLOAD, f"{path}: {message}", event_type)
    if raw is not None and path in ENVELOPE_FIELDS and message == "missing":
        return _envelope_refusal(raw, exc)
    unknown = _UNKNOWN.match(message)
    if unknown and not path:
        return InvalidEvent(BAD_ENVELOPE, f"unknown envelope field `{unknown['name']}`", event_type)
    return InvalidEvent(BAD_ENVELOPE, f"{path}: {message}" if path else message, event_type)


def _envelope_refusal(raw, exc):
    """Slow path, for a message whose type/version could not be read: say exactly why."""
    try:
        body = json.loads(raw)
    except (TypeError, ValueError):
        return InvalidEvent(NOT_JSON, f"not JSON: {exc}")
    if not isinstance(body, dict):
        return InvalidEvent(NOT_JSON, "not a JSON object")
    missing = [name for name in ENVELOPE_FIELDS if name not in body]
    event_type = body.get("type") if isinstance(body.get("type"), str) else None
    if missing:
        return InvalidEvent(BAD_ENVELOPE, f"missing envelope fields {missing}", event_type)
    return _refusal(exc, event_type)


def topics():
    """{type: topic} of every declared type (without KAFKA_TOPIC_PREFIX)."""
    return CATALOGUE.topics()


# ---- JSON Schema (draft 2020-12) of one entry: imageboard/events/schemas/<type>.json -----
def json_schema(entry):
    """The whole envelope of one (type, version), as producers write it: type and version
    fixed, occurred_at in UTC (+00:00), the payload's fields and constraints."""
    payload = msgspec.json.schema(entry.payload)
    payload = payload["$defs"][entry.payload.__name__]
    payload.pop("title", None)
    payload.pop("description", None)
    payload["additionalProperties"] = True  # consumers ignore fields they do not know
    envelope = msgspec.json.schema(Event[entry.payload])
    envelope = next(v for k, v in envelope["$defs"].items() if k.startswith("Event"))
    properties = envelope["properties"]
    properties["type"] = {"const": entry.type}
    properties["version"] = {"const": entry.version}
    properties["occurred_at"].update(pattern=r"\+00:00$")
    properties["payload"] = payload
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://imageboard.example/events/{entry.type}.v{entry.version}.json",
        "title": f"{entry.type} (version {entry.version})",
        "description": f"{entry.description}{' Best effort: no outbox row.' if entry.best_effort else ''}"
                       f" Topic: {entry.topic}; Kafka key: {entry.key}.",
        "type": "object",
        "required": list(ENVELOPE_FIELDS),
        "additionalProperties": False,
        "properties": {name: properties[name] for name in ENVELOPE_FIELDS},
    }


# ---- the access feed (imageboard/access): a RabbitMQ fanout exchange, not a Kafka topic --
# Declared here like the events, in their own catalogue so TOPICS, topic creation and the
# ClickHouse sink never see them. A message is one flat JSON object: a change,
# {"source", "seq", "kind", "user_id", ...the kind's fields}, or a heartbeat
# {"source", "kind": "heartbeat", "seq": the head}. Nothing here holds an email, password or token:
# a revoked token travels as its jti only.
ACCESS_EXCHANGE = "imageboard.access"
ACCESS_CHANNEL = f"amqp fanout {ACCESS_EXCHANGE}"
FEED_CATALOGUE = Catalogue()
Jti = Annotated[str, Meta(pattern=r"^[0-9a-f]{32}$")]
IsoTime = Annotated[str, Meta(min_length=1, max_length=40)]


def feed_message(kind, version=1, key="user id"):
    """Class decorator: declares a model as message `access.<kind>` of the access feed."""
    def declare(model):
        entry = EventType(type=f"access.{kind}", version=version, topic=ACCESS_CHANNEL,
                          key=key, payload=model, description=" ".join((model.__doc__ or "").split()),
                          decoder=msgspec.json.Decoder(model))
        FEED_CATALOGUE.add(entry)
        model.spec = entry
        return model
    return declare


@feed_message("min_version")
class AccessMinVersion(Payload):
    """Tokens of user_id with ver below min_version are revoked, except the one whose jti is
    except_jti (the token that changed the password); logout-all, password change."""

    user_id: Id
    min_version: Count
    except_jti: Optional[Jti] = None


@feed_message("revoke_jti")
class AccessRevokeJti(Payload):
    """One token is revoked (logout); kept until exp (epoch seconds), its expiry."""

    user_id: Id
    jti: Jti
    exp: Count


@feed_message("admin")
class AccessAdmin(Payload):
    """The stored admin flag of user_id (set_admin, make-admin)."""

    user_id: Id
    is_admin: bool


@feed_message("erased")
class AccessErased(Payload):
    """The account was deleted: every token of user_id is revoked."""

    user_id: Id


@feed_message("ban")
class AccessBan(Payload):
    """user_id is banned until expires_at (ISO 8601 UTC; null = permanent): writes are refused."""

    user_id: Id
    reason: Text
    created_at: IsoTime
    expires_at: Optional[IsoTime] = None


@feed_message("unban")
class AccessUnban(Payload):
    """user_id's ban was lifted before its expiry."""

    user_id: Id


@feed_message("heartbeat", key="source")
class AccessHeartbeat(Payload):
    """Every ACCESS_FEED_HEARTBEAT seconds: the source's highest committed seq. A gateway
    holding less fetches the rest over RPC (access_changes)."""

    source: Text
    seq: Count  # the head


def validate_access_change(change):
    """A change dict ({"kind", "user_id", ...}) checked against its declaration: the dict
    with defaults filled in, or InvalidEvent."""
    kind = change.get("kind") if isinstance(change, dict) else None
    entry = FEED_CATALOGUE.get(f"access.{kind}", 1) if isinstance(kind, str) else None
    if entry is None or kind == "heartbeat":
        raise InvalidEvent(UNKNOWN_TYPE, f"unknown access change kind {kind!r}")
    fields = {k: v for k, v in change.items() if k not in ("kind", "seq", "source")}
    try:
        model = msgspec.convert(fields, entry.payload, strict=True)
    except msgspec.ValidationError as exc:
        raise InvalidEvent(BAD_PAYLOAD, str(exc), entry.type)
    return {"kind": kind, **msgspec.structs.asdict(model)}


def feed_schema(entry):
    """JSON Schema of one access feed message (a flat object)."""
    payload = msgspec.json.schema(entry.payload)
    payload = payload["$defs"][entry.payload.__name__]
    kind = entry.type.split(".", 1)[1]
    properties = {"source": {"type": "string", "description": "the source service"},
                  "kind": {"const": kind}}
    required = ["source", "kind"]
    if kind != "heartbeat":
        properties["seq"] = {"type": "integer", "minimum": 1,
                             "description": "position in the source's access log"}
        required.append("seq")
    properties.update(payload["properties"])
    required += [name for name in payload.get("required", []) if name not in required]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://imageboard.example/access/{entry.type}.v{entry.version}.json",
        "title": f"{entry.type} (version {entry.version})",
        "description": f"{entry.description} Channel: {entry.topic}; key: {entry.key}.",
        "type": "object",
        "required": required,
        "additionalProperties": True,
        "properties": properties,
    }

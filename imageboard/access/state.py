"""AccessState: the in-memory picture of revocations, rights and bans, per source.

Pure (no I/O) and thread-safe: the gateway's feed thread writes it, every request thread
reads it. A change is a dict with `kind` and `user_id` (contracts/events.py declares each
kind, FEED_CATALOGUE); `apply` adds one, `reset` replaces one source's whole part by a
snapshot. `check(claims)` answers a request's question without I/O.

Rules (contract v2 §3.3):
- a token without `jti` or `ver`, of an erased user, whose jti was revoked, or whose
  `ver` is below the user's `min_version` (unless its jti is the one `except_jti` of that
  version: the token that changed the password) -> TokenRevoked (401);
- admin rights = the user is in a source's admin set, and no source is stale (fail closed);
- a ban applies while its `expires_at` is in the future (None = permanent).
"""
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from contracts.errors import TokenRevoked

MIN_VERSION = "min_version"   # {user_id, min_version, except_jti}
REVOKE_JTI = "revoke_jti"     # {user_id, jti, exp}
ADMIN = "admin"               # {user_id, is_admin}
ERASED = "erased"             # {user_id}
BAN = "ban"                   # {user_id, reason, created_at, expires_at}
UNBAN = "unban"               # {user_id}


@dataclass(frozen=True)
class Ban:
    reason: str
    created_at: str          # ISO 8601 UTC
    expires_at: str | None   # ISO 8601 UTC; None = permanent

    def active(self, now):
        return self.expires_at is None or _parse(self.expires_at) > now


@dataclass(frozen=True)
class Principal:
    """Who is calling, from current state (never from the token's is_admin claim)."""

    id: int
    username: str
    is_admin: bool
    ban: Ban | None = None
    jti: str | None = None
    exp: int | None = None


@dataclass
class _Part:
    """One source's contribution."""

    min_versions: dict = field(default_factory=dict)  # user_id -> (min_version, except_jti)
    revoked: dict = field(default_factory=dict)       # jti -> exp (epoch seconds)
    admins: set = field(default_factory=set)
    erased: set = field(default_factory=set)
    bans: dict = field(default_factory=dict)          # user_id -> Ban
    seq: int = 0              # the last change held
    heard_at: float | None = None  # monotonic time of the last message or snapshot


def _parse(value):
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class AccessState:
    """`sources`: the sources this process must hear from; `stale_after` seconds of
    silence make one stale. `clock` (monotonic) and `now` (wall, aware datetime) are
    injectable for tests."""

    def __init__(self, sources=(), stale_after=1.0, clock=time.monotonic,
                 now=lambda: datetime.now(timezone.utc)):
        self.stale_after = stale_after
        self._clock = clock
        self._now = now
        self._lock = threading.Lock()
        self._parts = {source: _Part() for source in sources}
        self._listeners = []

    # -- writing ----------------------------------------------------------------------
    def on_change(self, callback):
        """callback(user_id, kind) after each applied change (the live-updates process
        closes a user's streams on it). Called on the feed thread: keep it short."""
        self._listeners.append(callback)

    def sources(self):
        return list(self._parts)

    def seq(self, source):
        return self._part(source).seq

    def heard(self, source):
        """The source spoke (a heartbeat that needs nothing fetched counts)."""
        with self._lock:
            self._part(source).heard_at = self._clock()

    def drop(self, source):
        """Stop expecting `source` (it turned out to have no feed)."""
        with self._lock:
            self._parts.pop(source, None)

    def apply_seq(self, source, seq):
        """Caught up to `seq` (a fetch whose last rows were rollbacks' unused seqs)."""
        with self._lock:
            part = self._part(source)
            part.seq = max(part.seq, seq)
            part.heard_at = self._clock()

    def apply(self, source, change, seq=None):
        """Add one change; `seq` (if given) becomes the source's position."""
        with self._lock:
            part = self._part(source)
            self._apply(part, change)
            if seq is not None:
                part.seq = seq
            part.heard_at = self._clock()
        self._notify([change])

    def reset(self, source, snapshot_changes, seq):
        """Replace the source's part by a snapshot (the source's state as changes)."""
        part = _Part()
        for change in snapshot_changes:
            self._apply(part, change)
        part.seq = seq
        part.heard_at = self._clock()
        with self._lock:
            old = self._parts.get(source)
            self._parts[source] = part
        affected = set() if old is None else (set(old.min_versions) | old.admins | old.erased
                                              | set(old.bans))
        self._notify([{"kind": "snapshot", "user_id": uid} for uid in sorted(affected)]
                     + [c for c in snapshot_changes if c.get("kind") != REVOKE_JTI])

    def _part(self, source):
        part = self._parts.get(source)
        if part is None:
            part = self._parts[source] = _Part()
        return part

    def _apply(self, part, change):
        kind, user_id = change["kind"], int(change["user_id"])
        if kind == MIN_VERSION:
            part.min_versions[user_id] = (int(change["min_version"]), change.get("except_jti"))
        elif kind == REVOKE_JTI:
            part.revoked[change["jti"]] = int(change["exp"])
            self._prune_revoked(part)
        elif kind == ADMIN:
            (part.admins.add if change["is_admin"] else part.admins.discard)(user_id)
        elif kind == ERASED:
            part.erased.add(user_id)
            part.admins.discard(user_id)
        elif kind == BAN:
            part.bans[user_id] = Ban(change["reason"], change["created_at"], change.get("expires_at"))
        elif kind == UNBAN:
            part.bans.pop(user_id, None)
        else:
            raise ValueError(f"unknown access change kind {kind!r}")

    def _prune_revoked(self, part):
        """A revoked jti is kept until its token expires; pruned as new ones arrive."""
        if len(part.revoked) % 1024:
            return
        now = self._now().timestamp()
        for jti in [j for j, exp in part.revoked.items() if exp < now]:
            del part.revoked[jti]

    def _notify(self, changes):
        for change in changes:
            for callback in self._listeners:
                callback(int(change["user_id"]), change["kind"])

    # -- reading ----------------------------------------------------------------------
    def is_fresh(self, source):
        part = self._parts.get(source)
        heard_at = part.heard_at if part is not None else None
        return heard_at is not None and self._clock() - heard_at <= self.stale_after

    def all_fresh(self):
        return all(self.is_fresh(source) for source in list(self._parts))

    def stale_sources(self):
        return [source for source in list(self._parts) if not self.is_fresh(source)]

    def check(self, claims):
        """Claims of a genuinely signed, unexpired token -> Principal, or TokenRevoked."""
        jti, ver = claims.get("jti"), claims.get("ver")
        if not isinstance(jti, str) or not jti or not isinstance(ver, int) or isinstance(ver, bool):
            raise TokenRevoked("The token was issued before revocation existed; log in again")
        user_id = claims["user_id"]
        now = self._now()
        is_admin, ban = False, None
        with self._lock:
            for part in self._parts.values():
                if user_id in part.erased or jti in part.revoked:
                    raise TokenRevoked()
                min_version, except_jti = part.min_versions.get(user_id, (0, None))
                if ver < min_version and jti != except_jti:
                    raise TokenRevoked()
                is_admin = is_admin or user_id in part.admins
                found = part.bans.get(user_id)
                if found is not None and found.active(now):
                    ban = found
        if is_admin and not self.all_fresh():
            is_admin = False  # a gateway that lost the feed fails closed for admin rights
        return Principal(id=user_id, username=str(claims.get("username", "")),
                         is_admin=is_admin, ban=ban, jti=jti, exp=claims.get("exp"))

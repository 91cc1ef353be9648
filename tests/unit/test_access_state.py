"""AccessState (imageboard/access/state.py): every rule of contract v2 §3.3 as the gateway
applies it, without I/O. The clocks are injected, so expiry and staleness need no sleep."""
from datetime import datetime, timedelta, timezone

import pytest

from contracts.errors import TokenRevoked
from contracts.events import InvalidEvent, validate_access_change
from imageboard.access.feed import fold
from imageboard.access.state import AccessState, Ban

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


class Clocks:
    def __init__(self):
        self.mono = 100.0
        self.wall = T0

    def advance(self, seconds):
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


@pytest.fixture
def clocks():
    return Clocks()


@pytest.fixture
def state(clocks):
    state = AccessState(["users", "moderation"], stale_after=1.0,
                        clock=lambda: clocks.mono, now=lambda: clocks.wall)
    state.reset("users", [], 0)
    state.reset("moderation", [], 0)
    return state


def claims(user_id=7, jti="a" * 32, ver=0, **extra):
    return {"user_id": user_id, "username": "alice", "jti": jti, "ver": ver,
            "exp": int(T0.timestamp()) + 3600, **extra}


def revoked(state, token):
    with pytest.raises(TokenRevoked) as info:
        state.check(token)
    return info.value.code


def test_a_plain_token_is_its_user_without_rights(state):
    principal = state.check(claims(is_admin=True))
    assert (principal.id, principal.username, principal.is_admin, principal.ban) == (7, "alice", False, None)
    assert principal.jti == "a" * 32


@pytest.mark.parametrize("missing", ["jti", "ver"])
def test_a_token_without_jti_or_ver_is_revoked(state, missing):
    token = claims()
    del token[missing]
    assert revoked(state, token) == "token_revoked"


@pytest.mark.parametrize("ver", ["0", True, None, 1.0])
def test_a_ver_that_is_not_an_integer_is_revoked(state, ver):
    assert revoked(state, claims(ver=ver)) == "token_revoked"


def test_logout_revokes_that_token_only(state):
    state.apply("users", {"kind": "revoke_jti", "user_id": 7, "jti": "a" * 32, "exp": 2**40}, seq=1)
    assert revoked(state, claims(jti="a" * 32)) == "token_revoked"
    assert state.check(claims(jti="b" * 32)).id == 7


def test_logout_all_revokes_every_token_issued_before_and_not_the_next(state):
    state.apply("users", {"kind": "min_version", "user_id": 7, "min_version": 1, "except_jti": None})
    assert revoked(state, claims(jti="a" * 32, ver=0)) == "token_revoked"
    assert revoked(state, claims(jti="b" * 32, ver=0)) == "token_revoked"
    assert state.check(claims(jti="c" * 32, ver=1)).id == 7     # the next login
    assert state.check(claims(user_id=8, ver=0)).id == 8        # other users untouched


def test_password_change_keeps_the_token_that_made_it(state):
    state.apply("users", {"kind": "min_version", "user_id": 7, "min_version": 1, "except_jti": "a" * 32})
    assert state.check(claims(jti="a" * 32, ver=0)).id == 7
    assert revoked(state, claims(jti="b" * 32, ver=0)) == "token_revoked"
    # A second change from the same token: tokens issued between the two go too.
    state.apply("users", {"kind": "min_version", "user_id": 7, "min_version": 2, "except_jti": "a" * 32})
    assert state.check(claims(jti="a" * 32, ver=0)).id == 7
    assert revoked(state, claims(jti="c" * 32, ver=1)) == "token_revoked"
    # logout-all afterwards: the exception is gone.
    state.apply("users", {"kind": "min_version", "user_id": 7, "min_version": 3, "except_jti": None})
    assert revoked(state, claims(jti="a" * 32, ver=0)) == "token_revoked"


def test_an_erased_user_has_no_valid_token(state):
    state.apply("users", {"kind": "admin", "user_id": 7, "is_admin": True})
    state.apply("users", {"kind": "erased", "user_id": 7})
    assert revoked(state, claims(ver=5)) == "token_revoked"


def test_admin_rights_follow_the_stored_flag_not_the_claim(state):
    assert state.check(claims(is_admin=True)).is_admin is False
    state.apply("users", {"kind": "admin", "user_id": 7, "is_admin": True})
    assert state.check(claims(is_admin=False)).is_admin is True
    state.apply("users", {"kind": "admin", "user_id": 7, "is_admin": False})
    assert state.check(claims(is_admin=True)).is_admin is False


def test_a_stale_source_fails_admin_rights_closed_until_it_is_heard_again(state, clocks):
    state.apply("users", {"kind": "admin", "user_id": 7, "is_admin": True})
    state.heard("moderation")
    clocks.advance(0.9)
    assert state.check(claims()).is_admin is True and state.all_fresh()
    clocks.advance(0.2)  # 1.1 s since users, 0.2 s since moderation... 1.1 for both
    assert state.stale_sources() == ["users", "moderation"]
    assert state.check(claims()).is_admin is False
    state.heard("users")
    assert state.check(claims()).is_admin is False  # moderation is still stale
    state.heard("moderation")
    assert state.check(claims()).is_admin is True


def test_a_source_never_heard_is_stale(clocks):
    state = AccessState(["users"], clock=lambda: clocks.mono, now=lambda: clocks.wall)
    assert state.is_fresh("users") is False and state.stale_sources() == ["users"]


def test_a_ban_refuses_until_it_expires_and_an_unban_lifts_it(state, clocks):
    expires = (T0 + timedelta(seconds=10)).isoformat()
    state.apply("moderation", {"kind": "ban", "user_id": 7, "reason": "spam",
                               "created_at": T0.isoformat(), "expires_at": expires})
    assert state.check(claims()).ban == Ban("spam", T0.isoformat(), expires)
    clocks.advance(9.9)
    assert state.check(claims()).ban is not None
    clocks.advance(0.2)  # expiry needs no message
    assert state.check(claims()).ban is None
    state.apply("moderation", {"kind": "ban", "user_id": 7, "reason": "abuse",
                               "created_at": T0.isoformat(), "expires_at": None})
    clocks.advance(10**6)
    assert state.check(claims()).ban.reason == "abuse"  # permanent
    state.apply("moderation", {"kind": "unban", "user_id": 7})
    assert state.check(claims()).ban is None


def test_a_snapshot_replaces_only_its_sources_part(state):
    state.apply("users", {"kind": "admin", "user_id": 7, "is_admin": True}, seq=4)
    state.apply("users", {"kind": "revoke_jti", "user_id": 9, "jti": "d" * 32, "exp": 2**40}, seq=5)
    state.apply("moderation", {"kind": "ban", "user_id": 7, "reason": "spam",
                               "created_at": T0.isoformat(), "expires_at": None}, seq=2)
    state.reset("users", [{"kind": "admin", "user_id": 8, "is_admin": True}], 12)
    assert state.seq("users") == 12 and state.seq("moderation") == 2
    assert state.check(claims(user_id=7)).is_admin is False      # gone with the old part
    assert state.check(claims(user_id=8)).is_admin is True
    assert state.check(claims(user_id=9, jti="d" * 32)).id == 9  # the snapshot did not hold it
    assert state.check(claims(user_id=7)).ban.reason == "spam"   # moderation's part stays


def test_listeners_hear_each_change_with_its_user(state):
    heard = []
    state.on_change(lambda user_id, kind: heard.append((user_id, kind)))
    state.apply("users", {"kind": "min_version", "user_id": 7, "min_version": 1, "except_jti": None})
    state.apply("moderation", {"kind": "ban", "user_id": 8, "reason": "x",
                               "created_at": T0.isoformat(), "expires_at": None})
    state.reset("moderation", [], 3)  # the ban of 8 is gone: its user hears of it
    assert heard == [(7, "min_version"), (8, "ban"), (8, "snapshot")]


def test_a_dropped_source_is_not_waited_for(state, clocks):
    clocks.advance(5)
    state.drop("moderation")
    state.heard("users")
    assert state.sources() == ["users"] and state.all_fresh()


def test_revoked_jtis_are_forgotten_once_their_tokens_expired(state, clocks):
    old = int(T0.timestamp()) + 5
    state.apply("users", {"kind": "revoke_jti", "user_id": 1, "jti": "e" * 32, "exp": old})
    clocks.advance(10)
    for i in range(1100):  # pruning runs as revocations accumulate
        state.apply("users", {"kind": "revoke_jti", "user_id": 1, "jti": f"{i:032x}",
                              "exp": old + 3600})
    assert "e" * 32 not in state._parts["users"].revoked


def test_fold_keeps_the_last_word_per_user_and_unexpired_revocations():
    rows = [
        {"kind": "min_version", "user_id": 1, "min_version": 1, "except_jti": None},
        {"kind": "min_version", "user_id": 1, "min_version": 2, "except_jti": "a" * 32},
        {"kind": "revoke_jti", "user_id": 1, "jti": "b" * 32, "exp": 50},
        {"kind": "revoke_jti", "user_id": 1, "jti": "c" * 32, "exp": 150},
        {"kind": "ban", "user_id": 2, "reason": "x", "created_at": "t", "expires_at": None},
        {"kind": "unban", "user_id": 2},
        {"kind": "ban", "user_id": 3, "reason": "y", "created_at": "t", "expires_at": None},
        {"kind": "erased", "user_id": 4},
    ]
    assert fold(rows, now=100) == [
        {"kind": "revoke_jti", "user_id": 1, "jti": "c" * 32, "exp": 150},
        {"kind": "erased", "user_id": 4},
        {"kind": "min_version", "user_id": 1, "min_version": 2, "except_jti": "a" * 32},
        {"kind": "ban", "user_id": 3, "reason": "y", "created_at": "t", "expires_at": None},
    ]


@pytest.mark.parametrize("change", [
    {"kind": "nope", "user_id": 1},
    {"kind": "heartbeat", "source": "users", "seq": 3},
    {"kind": "admin", "user_id": 0, "is_admin": True},
    {"kind": "admin", "user_id": 1, "is_admin": "yes"},
    {"kind": "revoke_jti", "user_id": 1, "jti": "not-hex", "exp": 5},
    {"user_id": 1},
])
def test_the_feed_catalogue_refuses_what_it_does_not_declare(change):
    with pytest.raises(InvalidEvent):
        validate_access_change(change)


def test_with_auto_sources_a_service_without_a_feed_is_dropped_and_a_source_kept():
    from nameko.exceptions import MethodNotFound

    from imageboard.access.feed import AccessFeedSubscriber, configured_sources
    from tests.unit.gateway_fakes import CONFIG, FakeRpc

    config = dict(CONFIG, ACCESS_SOURCES="auto", AMQP_URI="pyamqp://guest:guest@127.0.0.1:5672//")
    assert configured_sources(config) == ["users", "posts", "comments"]
    assert configured_sources(dict(config, ACCESS_SOURCES=["users"])) == ["users"]
    state = AccessState(configured_sources(config))
    rpc = FakeRpc()
    rpc.answers[("users", "access_changes")] = {
        "source": "users", "seq": 4, "snapshot": True,
        "changes": [{"kind": "admin", "user_id": 3, "is_admin": True}]}
    rpc.answers[("posts", "access_changes")] = MethodNotFound("access_changes")
    rpc.answers[("comments", "access_changes")] = OSError("down")
    subscriber = AccessFeedSubscriber(config, state, rpc, auto=True)
    for source in ["users", "posts", "comments"]:
        subscriber._fetch(source, snapshot=True)
    assert state.sources() == ["users", "comments"]  # comments did not answer: still awaited
    assert state.seq("users") == 4 and state.is_fresh("users") and not state.is_fresh("comments")
    assert subscriber._behind == {"comments"}
    assert state.check(claims(user_id=3)).is_admin is False  # comments is stale: fail closed

"""Per-user rate limits (contract v2 section 3.4, gateway/ratelimit.py) with a fake clock
and an in-memory counter: the settings, the windows, the headers, 429, the check order,
what counts, and failing open when Redis cannot be reached."""
import logging
from datetime import datetime

import pytest
import redis
from prometheus_client import REGISTRY

from contracts.errors import PostNotFound
from gateway.openapi import openapi_document
from gateway.ratelimit import RULES, Limiter, key_prefix, window_start
from imageboard.config import load_config
from imageboard.settings import ConfigError, RateLimit, Settings, settings_of
from imageboard.tokens import issue_token
from tests.openapi_check import normalise, routed_operations
from tests.unit.gateway_fakes import CONFIG, FakeClock, MemoryCounter

T0 = 1_800_000_000.0  # the fake clock's start: a multiple of 600 and of 60


def auth(user_id=7, admin=False):
    return {"Authorization": "Bearer " + issue_token(CONFIG, user_id, f"user{user_id}", admin)}


def liked(post_id, user):
    return {"post_id": post_id, "liked": True, "likes_count": 1, "message": "Post liked"}


@pytest.fixture
def gateway_config():
    return dict(CONFIG, RATE_LIMIT_LIKE="3/60", RATE_LIMIT_COMMENT_CREATE="0")


@pytest.fixture
def rpc(rpc):
    rpc.answers[("posts", "toggle_like")] = liked
    rpc.answers[("comments", "create_comment")] = lambda body, author: {"id": 1}
    return rpc


def like(client, user_id=7, post_id=1, admin=False):
    return client.simulate_post(f"/api/posts/{post_id}/like/", headers=auth(user_id, admin))


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- settings --------------------------------------------------------------------------

@pytest.mark.parametrize("text, limit", [("10/600", RateLimit(10, 600)), (" 5 / 3600 ", RateLimit(5, 3600)),
                                         ("0", None), (0, None)])
def test_a_setting_reads_count_per_seconds_and_0_turns_it_off(text, limit):
    assert settings_of(dict(CONFIG, RATE_LIMIT_LIKE=text)).RATE_LIMIT_LIKE == limit


@pytest.mark.parametrize("bad", ["abc", "10", "10/", "0/60", "10/0", "-1/60", "10/60/2", "1.5/60", ""])
def test_a_bad_setting_stops_the_start_naming_the_variable_and_the_form(bad, monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_EXPORT", bad)
    with pytest.raises(ConfigError) as exc:
        load_config()
    message = str(exc.value)
    assert "RATE_LIMIT_EXPORT: Value error, must be '<count>/<seconds>'" in message
    assert "or 0 to turn the limit off" in message
    assert "(from the environment variable RATE_LIMIT_EXPORT)" in message


def test_the_defaults_are_the_contracts_and_survive_the_plain_dict(monkeypatch):
    for name in ("RATE_LIMIT_POST_CREATE", "RATE_LIMIT_COMMENT_CREATE", "RATE_LIMIT_LIKE",
                 "RATE_LIMIT_REPORT", "RATE_LIMIT_EXPORT", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    config = load_config()
    assert config["RATE_LIMIT_POST_CREATE"] == "10/600"  # nameko's dict holds the text
    settings = settings_of(config)
    assert (settings.RATE_LIMIT_POST_CREATE, settings.RATE_LIMIT_COMMENT_CREATE,
            settings.RATE_LIMIT_LIKE, settings.RATE_LIMIT_REPORT, settings.RATE_LIMIT_EXPORT) == (
        RateLimit(10, 600), RateLimit(30, 60), RateLimit(120, 60), RateLimit(10, 3600),
        RateLimit(5, 3600))
    assert settings.REDIS_URL == "redis://127.0.0.1:6379/0"
    assert settings_of(dict(CONFIG, RATE_LIMIT_LIKE="0")).model_dump()["RATE_LIMIT_LIKE"] == "0"


# --- the rule table --------------------------------------------------------------------

def test_the_table_names_the_contracts_five_requests_each_with_its_setting():
    assert {(r.method, r.route, r.setting) for r in RULES} == {
        ("POST", "/api/posts", "RATE_LIMIT_POST_CREATE"),
        ("POST", "/api/comments", "RATE_LIMIT_COMMENT_CREATE"),
        ("POST", "/api/posts/{post_id}/like", "RATE_LIMIT_LIKE"),
        ("POST", "/api/reports", "RATE_LIMIT_REPORT"),
        ("GET", "/api/users/me/export", "RATE_LIMIT_EXPORT"),
    }
    assert all(rule.setting in Settings.model_fields for rule in RULES)
    assert len({rule.kind for rule in RULES}) == len(RULES)  # one key space each


def test_every_routed_limited_operation_documents_429_and_the_headers():
    """From the rule table: a rule applies (and is documented) once its route is served;
    the reports rule waits for the moderation service's route."""
    document = openapi_document()
    routed = routed_operations()
    rules = {(rule.method, normalise(rule.route + "/")) for rule in RULES}
    limited = {(method.upper(), normalise(path)) for path, item in document["paths"].items()
               for method, op in item.items() if "X-RateLimit-Reset" in
               op["responses"].get("429", {}).get("headers", {})}
    assert limited == rules & routed
    assert limited >= {("POST", normalise(p)) for p in ("/api/posts/", "/api/comments/",
                                                        "/api/posts/{id}/like/")} | {
        ("GET", normalise("/api/users/me/export/"))}
    for path, item in document["paths"].items():
        for method, op in item.items():
            if (method.upper(), normalise(path)) not in limited:
                assert all("X-RateLimit-Limit" not in r.get("headers", {})
                           for r in op["responses"].values()), (method, path)
                continue
            responses = op["responses"]
            assert "Retry-After" in responses["429"]["headers"]
            assert all("X-RateLimit-Remaining" in r["headers"] for s, r in responses.items()
                       if s not in ("401", "414"))
            assert "X-RateLimit-Limit" not in responses["401"]["headers"]


# --- windows and counting ----------------------------------------------------------------

def test_windows_are_aligned_to_the_epoch_so_every_process_keys_the_same_moment_alike():
    assert window_start(T0 + 59.9, 60) == T0 and window_start(T0 + 60, 60) == T0 + 60
    assert window_start(T0 + 1, 7) == 1_799_999_999  # 257142857 * 7


def test_the_limiter_counts_per_user_and_kind_and_a_new_window_starts_from_zero():
    clock = FakeClock(T0 + 10)
    limiter = Limiter(MemoryCounter(clock), "x:", clock=clock)
    limit = RateLimit(2, 60)
    first, second, third = (limiter.hit("like", limit, 7) for _ in range(3))
    assert (first.allowed, first.remaining, second.remaining, third.allowed, third.remaining) == (
        True, 1, 0, False, 0)
    assert third.reset_at == T0 + 60 and third.retry_after == 50
    assert limiter.hit("like", limit, 8).remaining == 1         # another user
    assert limiter.hit("export", limit, 7).remaining == 1       # another kind
    clock.advance(49.5)
    assert limiter.hit("like", limit, 7).retry_after == 1       # 0.5 s left: whole seconds, >= 1
    clock.advance(0.5)                                          # the next window
    fresh = limiter.hit("like", limit, 7)
    assert (fresh.allowed, fresh.remaining, fresh.reset_at) == (True, 1, T0 + 120)


def test_keys_carry_the_deployment_prefix():
    assert key_prefix(settings_of(dict(CONFIG, DB_PREFIX="shop"))) == "shop:ratelimit:"


# --- over HTTP ---------------------------------------------------------------------------

def test_each_answer_carries_limit_remaining_and_reset_then_429_with_retry_after(client, rpc, clock):
    clock.advance(15)
    answers = [like(client) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["2", "1", "0"]
    assert {r.headers["X-RateLimit-Limit"] for r in answers} == {"3"}
    reset = datetime.fromisoformat(answers[0].headers["X-RateLimit-Reset"])
    assert reset.utcoffset().total_seconds() == 0 and reset.timestamp() == T0 + 60
    calls = len(rpc.calls)
    refused = like(client)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "45"
    assert (refused.headers["X-RateLimit-Limit"], refused.headers["X-RateLimit-Remaining"]) == ("3", "0")
    assert refused.headers["X-RateLimit-Reset"] == answers[0].headers["X-RateLimit-Reset"]
    assert len(rpc.calls) == calls  # nothing done
    clock.advance(45)
    again = like(client)
    assert again.status_code == 200 and again.headers["X-RateLimit-Remaining"] == "2"
    assert "Retry-After" not in again.headers


def test_errors_count_too_and_carry_the_headers(client, rpc):
    rpc.answers[("posts", "toggle_like")] = PostNotFound()
    missing = [like(client, post_id=99) for _ in range(3)]
    assert [(r.status_code, r.headers["X-RateLimit-Remaining"]) for r in missing] == [
        (404, "2"), (404, "1"), (404, "0")]
    assert like(client, post_id=1).status_code == 429  # the 404s spent the window: 429 before 404


def test_admins_are_limited_too(client):
    assert [like(client, admin=True).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_users_do_not_share_a_window(client):
    assert [like(client, user_id=7).status_code for _ in range(4)][-1] == 429
    assert like(client, user_id=8).status_code == 200


def test_anonymous_and_invalid_tokens_get_401_first_and_are_not_counted(client, limiter):
    anonymous = client.simulate_post("/api/posts/1/like/")
    forged = client.simulate_post("/api/posts/1/like/", headers={"Authorization": "Bearer nope"})
    assert (anonymous.status_code, forged.status_code) == (401, 401)
    assert "X-RateLimit-Limit" not in anonymous.headers and "X-RateLimit-Limit" not in forged.headers
    assert limiter.counter.values == {}


def test_a_limit_set_to_0_is_off_no_headers_nothing_counted(client, rpc, limiter):
    answers = [client.simulate_post("/api/comments/", json={"post_id": 1, "content": "x"},
                                    headers=auth()) for _ in range(40)]
    assert {r.status_code for r in answers} == {201}
    assert all("X-RateLimit-Limit" not in r.headers for r in answers)
    assert limiter.counter.values == {}


def test_unlimited_routes_carry_no_headers(client, rpc):
    rpc.answers[("posts", "list_posts")] = {"count": 0, "results": []}
    resp = client.simulate_get("/api/posts/", headers=auth())
    assert resp.status_code == 200 and "X-RateLimit-Limit" not in resp.headers


# --- Redis unreachable: fail open ----------------------------------------------------------

class BrokenCounter:
    def __init__(self):
        self.calls = 0

    def incr(self, key, ttl):
        self.calls += 1
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")


def test_redis_down_lets_requests_through_unlimited_with_a_metric_and_a_log_line(
        client, limiter, clock, caplog):
    limiter.counter = broken = BrokenCounter()
    before = sample("imageboard_rate_limit_store_errors_total")
    with caplog.at_level(logging.WARNING, logger="gateway.ratelimit"):
        answers = [like(client) for _ in range(5)]  # past the limit of 3
    assert [r.status_code for r in answers] == [200] * 5
    assert all("X-RateLimit-Limit" not in r.headers for r in answers)
    assert sample("imageboard_rate_limit_store_errors_total") - before == 5
    warnings = [r for r in caplog.records if r.name == "gateway.ratelimit"]
    assert len(warnings) == 1 and "requests pass unlimited" in warnings[0].getMessage()
    # Within STORE_RETRY_SECONDS the process does not wait on Redis again; after, it asks.
    assert broken.calls == 1
    clock.advance(1.0)
    like(client)
    assert broken.calls == 2


def test_the_real_counter_fails_open_on_a_port_nobody_listens_on(clock):
    from gateway.ratelimit import RedisCounter
    limiter = Limiter(RedisCounter("redis://127.0.0.1:1/0"), "x:", clock=clock)
    assert limiter.hit("like", RateLimit(1, 60), 7) is None


def test_429s_are_counted_by_kind(client):
    before = sample("imageboard_rate_limited_total", kind="like")
    for _ in range(5):
        like(client)
    assert sample("imageboard_rate_limited_total", kind="like") - before == 2

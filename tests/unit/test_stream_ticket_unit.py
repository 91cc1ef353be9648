"""POST /api/stream/ticket/ on the gateway (contract v2 section 7) with a fake ticket store,
and the Redis store's single use against a fake Redis."""
import falcon.testing
import pytest

from gateway.app import create_app
from gateway.resources.stream import StreamTicketResource
from imageboard.access.state import AccessState
from imageboard.stream_tickets import TicketStoreUnavailable, Tickets
from imageboard.tokens import issue_token
from tests.openapi_check import APP_CONFIG

CONFIG = dict(APP_CONFIG)


class FakeRedis:
    def __init__(self):
        self.data = {}

    def set(self, key, value, ex=None):
        self.data[key] = (value, ex)

    def getdel(self, key):
        value = self.data.pop(key, None)
        return None if value is None else value[0]


@pytest.fixture
def client(monkeypatch):
    store = Tickets({"DB_PREFIX": "t", "SSE_TICKET_SECONDS": 30}, redis_client=FakeRedis())
    monkeypatch.setattr(StreamTicketResource, "tickets", property(lambda self: store))
    app = create_app(CONFIG, rpc=object(), access=AccessState([]))
    return falcon.testing.TestClient(app), store


def token(user_id=7):
    return issue_token(CONFIG, user_id, "alice", False)


def test_a_ticket_holds_the_tokens_claims_once(client):
    test, store = client
    resp = test.simulate_post("/api/stream/ticket/", headers={"Authorization": f"Bearer {token()}"})
    assert resp.status_code == 200 and resp.json["expires_in"] == 30
    assert len(resp.json["ticket"]) <= 128 and resp.headers["Cache-Control"] == "no-store"
    claims = store.consume(resp.json["ticket"])
    assert claims["user_id"] == 7 and len(claims["jti"]) == 32 and claims["ver"] == 0
    assert "password" not in claims and "email" not in claims
    assert store.consume(resp.json["ticket"]) is None  # used


def test_anonymous_callers_get_401(client):
    test, _ = client
    resp = test.simulate_post("/api/stream/ticket/")
    assert resp.status_code == 401 and resp.json["error"]["code"] == "not_authenticated"


def test_redis_down_is_503(client, monkeypatch):
    test, store = client

    def down(claims):
        raise TicketStoreUnavailable("refused")
    monkeypatch.setattr(store, "issue", down)
    resp = test.simulate_post("/api/stream/ticket/", headers={"Authorization": f"Bearer {token()}"})
    assert resp.status_code == 503 and resp.json["error"]["code"] == "stream_unavailable"


def test_overlong_or_empty_tickets_are_refused_without_asking_redis():
    store = Tickets({"DB_PREFIX": "t", "SSE_TICKET_SECONDS": 30}, redis_client=None)
    assert store.consume("") is None and store.consume("x" * 129) is None

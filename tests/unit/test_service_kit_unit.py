"""The services' reply path (imageboard.service_kit) without a broker: what a reply
carries, and how the shared reply channel behaves when its connection breaks."""
import json
from unittest.mock import MagicMock

import pytest
from nameko.exceptions import deserialize

from imageboard import service_kit
from contracts.errors import DomainError
from services.posts.exceptions import PostNotFound


def test_reply_body_is_nameko_reply_serialized_once():
    result, exc_info, body, content_type, encoding = service_kit.reply_body(
        {"id": 7, "title": "t"}, None, "json")
    assert (result, exc_info) == ({"id": 7, "title": "t"}, None)
    assert content_type == "application/json" and encoding == "utf-8"
    assert json.loads(body) == {"result": {"id": 7, "title": "t"}, "error": None}


def test_reply_body_carries_the_domain_error_the_caller_gets_back():
    error = PostNotFound()
    _, exc_info, body, _, _ = service_kit.reply_body(None, (PostNotFound, error, None), "json")
    payload = json.loads(body)
    assert payload["result"] is None
    raised = deserialize(payload["error"])
    assert isinstance(raised, PostNotFound) and isinstance(raised, DomainError)
    assert exc_info[1] is error


def test_reply_body_turns_an_unserializable_result_into_an_error_as_nameko_does():
    result, exc_info, body, _, _ = service_kit.reply_body({"when": object()}, None, "json")
    payload = json.loads(body)
    assert result is None and payload["result"] is None
    assert payload["error"]["exc_type"] == "UnserializableValueError"
    assert exc_info is not None


class _FakeChannel:
    def __init__(self, fail=False):
        self.fail = fail
        self.published = []

    def prepare_message(self, body, **kwargs):
        return (body, kwargs)

    def basic_publish(self, message, exchange, routing_key):
        if self.fail:
            raise ConnectionResetError("connection reset by peer")
        self.published.append((message, exchange, routing_key))


def _channel_with(monkeypatch, channels):
    """A _ReplyChannel whose successive connections hand out `channels` in order."""
    opened = iter(channels)

    def connection(*args, **kwargs):
        conn = MagicMock()
        conn.channel.return_value = next(opened)
        return conn

    monkeypatch.setattr(service_kit, "Connection", connection)
    return service_kit._ReplyChannel("amqp://guest:guest@localhost:5672//")


def test_reply_channel_is_kept_between_replies(monkeypatch):
    channel = _FakeChannel()
    reply = _channel_with(monkeypatch, [channel])
    for n in range(3):
        reply.publish(b"{}", "application/json", "utf-8", "nameko-rpc", "reply-q", f"c{n}")
    assert [p[2] for p in channel.published] == ["reply-q"] * 3
    body, props = channel.published[0][0]
    assert props["properties"] == {"delivery_mode": 1, "correlation_id": "c0"}


def test_a_broken_connection_is_replaced_once(monkeypatch):
    broken, fresh = _FakeChannel(fail=True), _FakeChannel()
    reply = _channel_with(monkeypatch, [broken, fresh])
    reply.publish(b"{}", "application/json", "utf-8", "nameko-rpc", "reply-q", "c1")
    assert len(fresh.published) == 1


def test_a_broker_that_stays_down_raises_to_the_caller(monkeypatch):
    reply = _channel_with(monkeypatch, [_FakeChannel(fail=True), _FakeChannel(fail=True)])
    with pytest.raises(ConnectionResetError):
        reply.publish(b"{}", "application/json", "utf-8", "nameko-rpc", "reply-q", "c1")
    assert reply.channel is None  # the next reply starts on a fresh connection


def test_a_call_that_does_not_fit_the_method_is_an_incorrect_signature_as_in_nameko():
    from nameko.exceptions import IncorrectSignature
    from services.posts.service import PostsService

    entrypoint = service_kit.DomainRpc()
    entrypoint.container = MagicMock(service_cls=PostsService)
    entrypoint.method_name = "list_posts"
    entrypoint.check_signature([2, 20], {"ordering": "-likes_count"})
    entrypoint.check_signature([], {})
    with pytest.raises(IncorrectSignature):
        entrypoint.check_signature([1, 2, 3, 4], {})
    with pytest.raises(IncorrectSignature):
        entrypoint.check_signature([], {"colour": "red"})


def test_an_ack_meeting_a_broker_that_just_went_away_does_not_kill_the_service():
    consumer = service_kit._RpcConsumer()
    consumer.container = MagicMock(config={})
    consumer.reply_channel = MagicMock()
    queue_consumer = MagicMock()
    queue_consumer.ack_message.side_effect = ConnectionResetError("broker gone")
    consumer.__dict__["queue_consumer"] = queue_consumer
    message = MagicMock(properties={"content_type": "application/json", "reply_to": "r",
                                    "correlation_id": "c"})
    assert consumer.handle_result(message, {"ok": 1}, None) == ({"ok": 1}, None)
    consumer.reply_channel.publish.assert_called_once()

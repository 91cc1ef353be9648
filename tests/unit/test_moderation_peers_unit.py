"""The moderation service's calls to the other services (services/moderation/peers.py),
with fake nameko proxies: the exact RPC names and arguments the posts and comments
services serve (remove_post(post_id, reason, moderator_id, report_id), ...), what a
removal that finds nothing to remove means, and the deadline."""
import eventlet
import pytest
from nameko.exceptions import UnknownService

from contracts.errors import PostNotFound, ServiceUnavailable, ValidationFailed
from services.moderation.peers import Peers


class Reply:
    def __init__(self, value, delay=0.0):
        self.value, self.delay = value, delay

    def result(self):
        if self.delay:
            eventlet.sleep(self.delay)
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


class Proxy:
    """A nameko RpcProxy: proxy.method.call_async(*args) -> a reply."""

    def __init__(self, answers, calls, delay=0.0):
        self.answers, self.calls, self.delay = answers, calls, delay

    def __getattr__(self, method):
        proxy = self

        class Method:
            def call_async(self, *args):
                proxy.calls.append((method, args))
                return Reply(proxy.answers.get(method), proxy.delay)
        return Method()


def peers(posts=None, comments=None, users=None, timeout=1.0, delay=0.0):
    calls = []
    made = Peers(Proxy(posts or {}, calls, delay), Proxy(comments or {}, calls, delay),
                 Proxy(users or {}, calls, delay), timeout)
    return made, calls


def test_removal_calls_the_content_services_with_the_agreed_arguments():
    made, calls = peers(posts={"remove_post": {"id": 12}}, comments={"remove_comment": {"id": 88}})
    assert made.remove("post", 12, "spam", 1, 31) is True
    assert made.remove("comment", 88, "abuse", 1) is True
    assert calls == [("remove_post", (12, "spam", 1, 31)), ("remove_comment", (88, "abuse", 1, None))]
    made.content("restore", "post", 12, "mistake", 1)
    made.content("restore", "comment", 88, "mistake", 1)
    assert calls[-2:] == [("restore_post", (12, "mistake", 1)), ("restore_comment", (88, "mistake", 1))]


@pytest.mark.parametrize("error", [PostNotFound(), ValidationFailed(code="already_removed")])
def test_nothing_left_to_remove_lets_the_resolution_go_on(error):
    made, _ = peers(posts={"remove_post": error})
    assert made.remove("post", 12, "spam", 1) is False


def test_other_removal_errors_stop_the_resolution():
    made, _ = peers(posts={"remove_post": ServiceUnavailable()})
    with pytest.raises(ServiceUnavailable):
        made.remove("post", 12, "spam", 1)


def test_snapshots_come_from_report_target_and_usernames_survive_a_missing_user():
    made, calls = peers(
        posts={"report_target": {"post_id": 12, "author_id": 9, "author_username": "eve",
                                 "title": "Hi", "content": "buy"}},
        comments={"report_target": {"comment_id": 88, "post_id": 12, "author_id": 9,
                                    "author_username": "eve", "content": "link"}},
        users={"admin_status": PostNotFound()})
    assert made.target("post", 12)["title"] == "Hi"
    assert made.target("comment", 88) == {"post_id": 12, "author_id": 9, "author_username": "eve",
                                          "title": None, "content": "link"}
    assert made.username(9) is None


def test_a_slow_or_missing_service_is_503():
    made, _ = peers(users={"admin_status": {"id": 1}}, timeout=0.05, delay=0.5)
    with pytest.raises(ServiceUnavailable):
        made.user(1)

    class Gone:
        def __getattr__(self, name):
            class Method:
                def call_async(self, *args):
                    raise UnknownService("posts")
            return Method()
    made = Peers(Gone(), Gone(), Gone(), 1.0)
    with pytest.raises(ServiceUnavailable):
        made.target("post", 1)

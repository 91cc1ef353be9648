"""(a) A domain service killed under load: its requests get 503 within the RPC timeout,
endpoints that do not need it keep answering, and it serves again after a restart
without the gateway being restarted."""
import time

import pytest
import requests

from tests.faults.support import Load, PrivateStack, auth

pytestmark = pytest.mark.faults

RPC_TIMEOUT = 3.0


def test_posts_service_killed_under_load():
    with PrivateStack("fa", SERVICES="[users, posts, comments]", RPC_TIMEOUT=str(RPC_TIMEOUT)) as stack:
        author, liker = stack.register("fault_a_author"), stack.register("fault_a_liker")
        post = stack.create_post(author)
        requests.post(stack.url + "/api/comments/", headers=auth(author), timeout=15,
                      json={"post_id": post["id"], "content": "so the list needs no posts call"})
        actions = [
            lambda i: ("feed", "GET", "/api/posts/", {}),
            lambda i: ("detail", "GET", f"/api/posts/{post['id']}/", {}),
            lambda i: ("comments", "GET", f"/api/comments/?post_id={post['id']}", {}),
            lambda i: ("login", "POST", "/api/users/login/",
                       {"json": {"username": "fault_a_liker", "password": "password1"}}),
        ]
        gateway_pid = stack.pid("gateway")
        with Load(stack.url, actions, threads=8) as load:
            time.sleep(3)
            killed_at = time.monotonic()
            stack.kill("posts")
            # A write while it is down: the client is told 503.
            ghost = requests.post(f"{stack.url}/api/posts/{post['id']}/like/", headers=auth(liker),
                                  timeout=15)
            time.sleep(8)
            restarted_at = time.monotonic()
            stack.restart("posts")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if requests.get(stack.url + "/api/posts/", timeout=15).status_code == 200:
                    break
                time.sleep(0.2)
            recovered_at = time.monotonic()
            time.sleep(3)
            ended_at = time.monotonic()

        # Requests that ended before the kill (one in flight at the kill is lost with the
        # process and rightly answered 503).
        before = [r for r in load.between(0, killed_at) if r[0] + r[3] < killed_at]
        # Requests that started and ended while it was down (those in flight at the restart
        # may be answered by the restarted service: their messages waited in its queue).
        down = [r for r in load.between(killed_at + 0.2, restarted_at) if r[0] + r[3] < restarted_at]
        after = load.between(recovered_at, ended_at)
        down_posts = [r for r in down if r[1] in ("feed", "detail")]
        down_others = [r for r in down if r[1] in ("comments", "login")]
        time.sleep(1)
        likes_after = requests.get(f"{stack.url}/api/posts/{post['id']}/", timeout=15).json()["likes_count"]
        print(f"\nfault (a) posts killed: before={Load.statuses(before)} "
              f"down posts={Load.statuses(down_posts)} "
              f"max_latency={max(r[3] for r in down_posts):.2f}s "
              f"down others={Load.statuses(down_others)} recovered_in={recovered_at - restarted_at:.1f}s "
              f"after={Load.statuses(after)} ghost_like={ghost.status_code} "
              f"applied_after_restart={likes_after}")

        assert set(Load.statuses(before)) == {200}
        assert down_posts and set(Load.statuses(down_posts)) <= {503}, Load.statuses(down_posts)
        assert max(r[3] for r in down_posts) <= RPC_TIMEOUT + 1.5
        assert down_others and set(Load.statuses(down_others)) == {200}, Load.statuses(down_others)
        assert ghost.status_code == 503
        assert after and set(Load.statuses(after)) == {200}, Load.statuses(after)
        assert recovered_at - restarted_at < 30
        assert stack.pid("gateway") == gateway_pid  # the gateway was never restarted
        assert not [r for r in load.records if r[2] >= 500 and r[2] not in (503,)]

"""Every gateway route that changes state sends its RPC with write priority, and no read
does: the priority is chosen at the call site (gateway/rpc.py), so this is where a
forgotten one would show."""
from imageboard.tokens import issue_token
from tests.unit.gateway_fakes import CONFIG


def test_each_write_route_uses_write_priority_and_reads_do_not(client, rpc):
    auth = {"Authorization": "Bearer " + issue_token(CONFIG, 7, "alice", False)}
    rpc.answers.update({
        ("users", "register"): {"id": 1}, ("users", "login"): {"token": "t"},
        ("posts", "create_post"): {"id": 1}, ("posts", "toggle_like"): {"liked": True},
        ("posts", "delete_post"): None, ("posts", "list_posts"): {"count": 0, "results": []},
        ("posts", "get_post"): {"id": 1}, ("posts", "post_exists"): True,
        ("comments", "create_comment"): {"id": 1},
        ("comments", "list_comments"): {"count": 0, "results": []},
    })
    client.simulate_post("/api/users/register/", json={"username": "a"})
    client.simulate_post("/api/users/login/", json={"username": "a"})
    client.simulate_post("/api/posts/", json={"title": "t", "content": "c"}, headers=auth)
    client.simulate_post("/api/posts/1/like/", headers=auth)
    client.simulate_delete("/api/posts/1/", headers=auth)
    client.simulate_post("/api/comments/", json={"post": 1, "content": "c"}, headers=auth)
    client.simulate_get("/api/posts/")
    client.simulate_get("/api/posts/1/")
    client.simulate_get("/api/comments/", params={"post_id": 1})
    assert rpc.writes == {("users", "register"), ("users", "login"), ("posts", "create_post"),
                          ("posts", "toggle_like"), ("posts", "delete_post"),
                          ("comments", "create_comment")}
    called = {(service, method) for service, method, _ in rpc.calls}
    assert {("posts", "list_posts"), ("posts", "get_post"),
            ("comments", "list_comments")} <= called - rpc.writes

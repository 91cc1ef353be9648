import pytest

from imageboard.tokens import issue_token
from tests.e2e.conftest import bearer


def multipart(image=None, **fields):
    """multipart/form-data (requests sends form-urlencoded unless it has files)."""
    parts = {name: (None, value) for name, value in fields.items()}
    if image is not None:
        parts["image"] = image
    return parts


@pytest.fixture
def new_post(api):
    def create(user, title="security", content="body", image=None):
        resp = api("POST", "/api/posts/", headers=bearer(user),
                   files=multipart(title=title, content=content, image=image))
        assert resp.status_code == 201, resp.text
        return resp.json()
    return create


STATS = "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-02"


@pytest.fixture
def admin_of(config, api):
    """The user's headers once `make admin` made it an admin: rights come from the stored
    flag (contract v2 §3.3), so the user's own token carries them within 1 s; an is_admin
    claim alone counts for nothing (test_a_genuine_is_admin_claim_gives_no_rights)."""
    def make(user):
        from nameko.standalone.rpc import ClusterRpcProxy

        from imageboard_ops.util import wait_for
        with ClusterRpcProxy(config, timeout=10) as rpc:
            rpc.users.set_admin(user["username"])
        headers = bearer(user)
        # Anything but 403 admin_required: the right is in force (503 without analytics).
        wait_for(lambda: api("GET", STATS, headers=headers).status_code != 403, 1.0,
                 interval=0.02, what="admin rights on the gateway")
        return headers
    return make


@pytest.fixture
def claimed_admin(config):
    """A genuinely signed token whose is_admin claim is true, for a user who is no admin."""
    def make(user):
        return {"Authorization": "Bearer " + issue_token(config, user["id"], user["username"], True)}
    return make


@pytest.fixture
def front(tmp_path, config, stack):
    """The real nginx configuration in front of the suite's gateway; a fresh one per test,
    so its rate-limit counters start empty."""
    from imageboard_ops import nginx
    from tests.ports import free_port
    port = free_port()
    conf = nginx.render(tmp_path / "nginx", f"127.0.0.1:{port}", stack.split("://", 1)[1],
                        config["MEDIA_ROOT"])
    ok, output = nginx.check(conf)
    assert ok, output
    nginx.start(conf)
    yield f"http://127.0.0.1:{port}"
    nginx.stop(conf)

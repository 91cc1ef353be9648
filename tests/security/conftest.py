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


@pytest.fixture
def admin_of(config):
    """A token with is_admin for an existing user: what a login after `make admin` gives."""
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

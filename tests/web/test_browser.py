"""The web client in a real browser: web/tests/e2e.mjs (Playwright's playwright-core driving
Debian's /usr/bin/chromium) against the session's stack behind a real nginx that serves
web/dist at / beside /api/. Saves screenshots of every page to docs/web/ (docs/web.md)."""
import json
import os
import subprocess

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from imageboard import PROJECT_ROOT
from imageboard_ops import nginx
from tests.ports import free_port
from tests.web.conftest import WEB

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.e2e]


@pytest.fixture
def web_front(tmp_path, stack, config, web_build):
    assert os.path.exists(nginx.NGINX_BIN), "nginx is needed (apt-get install nginx; .ci/run does)"
    port = free_port()
    # One host drives every browser: the per-IP posting limit is raised as for load tests.
    conf = nginx.render(tmp_path / "nginx", f"127.0.0.1:{port}", stack.split("://", 1)[1],
                        config["MEDIA_ROOT"], posting_rate="600r/m", web_root=web_build)
    ok, output = nginx.check(conf)
    assert ok, output
    nginx.start(conf)
    yield f"http://127.0.0.1:{port}"
    nginx.stop(conf)


def test_web_client_in_chromium(web_front, register, config, unique):
    assert os.path.exists(CHROMIUM), "chromium is needed (apt-get install chromium; .ci/run does)"
    admin = register("root")
    with ClusterRpcProxy(config, timeout=10) as rpc:
        rpc.users.set_admin(admin["username"])
    env = dict(os.environ, BASE_URL=web_front, ADMIN_USER=admin["username"],
               ADMIN_PASSWORD="password1", RUN_ID=unique[:8], CHROMIUM=CHROMIUM,
               SHOTS_DIR=os.path.join(PROJECT_ROOT, "docs", "web"))
    proc = subprocess.run(["node", "tests/e2e.mjs"], cwd=WEB, env=env, capture_output=True,
                          text=True, timeout=150)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    result = json.loads(lines[-1][len("RESULT "):]) if lines else {}
    print(proc.stderr[-4000:])
    print(json.dumps(result, indent=2))
    assert proc.returncode == 0, result.get("error") or proc.stderr[-4000:]
    assert "error" not in result
    # Reported, not asserted (a timing on a shared CI machine): docs/web.md quotes it.
    print("board first posts in", result["timings"]["board_first_posts_ms"], "ms")
    with open(os.path.join(PROJECT_ROOT, "docs", "web", "e2e-result.json"), "w") as fh:
        json.dump(result, fh, indent=2, sort_keys=True)
        fh.write("\n")

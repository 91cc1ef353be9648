"""/api/docs/: Swagger UI from local files (no CDN), the plain page without JavaScript, and
descriptions written for API users (no internal decision numbers, no raw backticks, a lock
that needs no emoji font)."""
import json
import re

import falcon.testing
import pytest

from gateway.app import create_app
from gateway.openapi import openapi_document
from gateway.openapi_text import readable
from gateway.resources import docs
from tests.openapi_check import APP_CONFIG


@pytest.fixture
def client():
    return falcon.testing.TestClient(create_app(APP_CONFIG, rpc=object()))


@pytest.fixture
def swagger_files(tmp_path, monkeypatch):
    (tmp_path / "swagger-ui-bundle.js").write_text("window.SwaggerUIBundle = function () {};")
    (tmp_path / "swagger-ui.css").write_text("body{}")
    monkeypatch.setattr(docs, "SWAGGER_DIR", str(tmp_path))
    return tmp_path


def test_swagger_ui_page_uses_only_local_files(client, swagger_files):
    resp = client.simulate_get("/api/docs/")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    page = resp.text
    assert 'id="swagger-ui"' in page
    assert re.findall(r'(?:src|href)="([^"]+)"', page) and not re.search(r'(?:src|href)="(?:https?:)?//', page)
    for asset in ("/api/docs/assets/swagger-ui-bundle.js", "/api/docs/assets/swagger-ui.css",
                  "/api/docs/assets/init.js"):
        assert asset in page
        got = client.simulate_get(asset)
        assert got.status_code == 200, asset
    js = client.simulate_get("/api/docs/assets/swagger-ui-bundle.js")
    assert js.headers["content-type"].startswith("application/javascript")
    init = client.simulate_get("/api/docs/assets/init.js").text
    assert '"/api/openapi.json"' in init and "persistAuthorization: true" in init


def test_unknown_asset_is_404_and_no_path_reaches_the_disk(client, swagger_files):
    for name in ("nope.js", "..%2Fopenapi.py", "index.html"):
        resp = client.simulate_get(f"/api/docs/assets/{name}")
        assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found", name


def test_without_the_build_the_plain_page_is_served(client, tmp_path, monkeypatch):
    monkeypatch.setattr(docs, "SWAGGER_DIR", str(tmp_path / "missing"))
    resp = client.simulate_get("/api/docs/")
    assert resp.status_code == 200 and "<script" not in resp.text and 'id="op-' in resp.text
    assert client.simulate_get("/api/docs/assets/swagger-ui-bundle.js").status_code == 404


def test_bad_format_is_400(client):
    resp = client.simulate_get("/api/docs/", params={"format": "pdf"})
    assert resp.status_code == 400 and resp.json["error"]["code"] == "invalid_format"


def _texts(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary") and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def test_descriptions_cite_no_internal_decision_numbers():
    texts = list(_texts(openapi_document()))
    assert len(texts) > 100
    cited = [t for t in texts if re.search(r"decision \\d|§|\\bsection \\d|contract v\\d", t, re.I)]
    assert cited == []


@pytest.mark.parametrize("source, shown", [
    ("Fields present with invalid values (decision 1).", "Fields present with invalid values."),
    ("A revoked one (v2 §3.3: `token_revoked`).", "A revoked one (`token_revoked`)."),
    ("v2 §6.2: any of the four.", "Any of the four."),
    ("Contract v2 section 3.6: a keyset page.", "A keyset page."),
    ("Plain text stays", "Plain text stays"),
])
def test_readable(source, shown):
    assert readable(source) == shown


def test_plain_page_renders_backticks_as_code_and_draws_the_lock(client):
    page = client.simulate_get("/api/docs/", params={"format": "plain"}).text
    text_only = re.sub(r"<pre>.*?</pre>", "", page, flags=re.S)  # schemas are shown as JSON
    assert "`" not in text_only
    assert "<code>token_revoked</code>" in page
    assert "&#128274;" not in page and '<svg class="lock"' in page
    assert json.dumps(openapi_document())  # the document itself still serialises

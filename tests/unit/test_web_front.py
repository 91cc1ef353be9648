"""imageboard_ops/web.py: `imageboard up`/`run` put nginx with the web client on WEB_BIND only
when it can, and say why not otherwise."""
from imageboard_ops import nginx, web


def test_url_names_a_reachable_address():
    assert web.url({"WEB_BIND": "0.0.0.0:8080"}) == "http://127.0.0.1:8080/"
    assert web.url({"WEB_BIND": "127.0.0.2:81"}) == "http://127.0.0.2:81/"


def test_skipped_without_nginx(monkeypatch, tmp_path):
    monkeypatch.setattr(nginx, "NGINX_BIN", str(tmp_path / "no-nginx"))
    assert web.start({"WEB_BIND": "127.0.0.1:1", "GATEWAY_BIND": "127.0.0.1:2"}) == {
        "skipped": f"nginx not installed ({tmp_path / 'no-nginx'})"}


def test_skipped_without_the_build(monkeypatch, tmp_path):
    (tmp_path / "nginx").write_text("")
    monkeypatch.setattr(nginx, "NGINX_BIN", str(tmp_path / "nginx"))
    monkeypatch.setattr(nginx, "WEB_ROOT", str(tmp_path / "dist"))
    assert web.start({"WEB_BIND": "127.0.0.1:1", "GATEWAY_BIND": "127.0.0.1:2"}) == {
        "skipped": "web client not built (make web)"}

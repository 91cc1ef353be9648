"""The web client on a plain host: `imageboard up`/`run` start nginx (nginx/templates, the
same configuration as in compose) on WEB_BIND in front of the gateway, serving the built
web client (web/dist, `make web`) at / and the API at /api/. Skipped, with the reason, when
nginx is not installed or the client is not built; the gateway alone still answers."""
import os
import subprocess

from imageboard.config import var_dir
from imageboard_ops import nginx


def _conf_dir():
    return os.path.join(var_dir(), "run", "nginx-web")


def url(config):
    host, _, port = str(config["WEB_BIND"]).rpartition(":")
    return f"http://{'127.0.0.1' if host in ('', '0.0.0.0') else host}:{port}/"


def _local(bind):
    """host:port to reach a process bound to `bind` from this host."""
    host, _, port = str(bind).rpartition(":")
    return f"{'127.0.0.1' if host in ('', '0.0.0.0') else host}:{port}"


def start(config):
    """{"url": ...} once nginx answers, or {"skipped": reason}."""
    if not os.path.exists(nginx.NGINX_BIN):
        return {"skipped": f"nginx not installed ({nginx.NGINX_BIN})"}
    if not os.path.isfile(os.path.join(nginx.WEB_ROOT, "index.html")):
        return {"skipped": "web client not built (make web)"}
    gateway = _local(config["GATEWAY_BIND"])
    conf = os.path.join(_conf_dir(), "nginx.conf")
    if nginx.running(conf):
        return {"url": url(config)}
    conf = nginx.render(_conf_dir(), config["WEB_BIND"], gateway, config["MEDIA_ROOT"],
                        stream=_local(config["STREAM_BIND"]))
    ok, output = nginx.check(conf)
    if not ok:
        return {"skipped": "nginx -t failed: " + output.strip()[-300:]}
    try:
        nginx.start(conf)
    except (subprocess.CalledProcessError, TimeoutError) as exc:  # e.g. WEB_BIND in use
        out = getattr(exc, "output", b"") or b""
        return {"skipped": f"nginx did not start on {config['WEB_BIND']}: "
                           + (out.decode(errors="replace").strip()[-300:] or str(exc))}
    return {"url": url(config)}


def stop():
    conf = os.path.join(_conf_dir(), "nginx.conf")
    if os.path.exists(conf):
        nginx.stop(conf)

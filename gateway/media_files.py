"""Serving uploaded images in development (nginx serves the same /media/<file> layout in
compose). Falcon's static route refuses path traversal and sets content types."""
import os

from imageboard.media import media_root, media_url_prefix


def add_media_route(app, config):
    if "MEDIA_ROOT" not in config:
        return
    root = media_root(config)
    os.makedirs(root, exist_ok=True)
    app.add_static_route(media_url_prefix(config), root)


def absolute_media_url(req, url):
    """Services know the path under MEDIA_URL; clients get an absolute URL (the client's
    scheme and host behind nginx), as for post images."""
    if url and url.startswith("/"):
        return req.forwarded_prefix + url
    return url

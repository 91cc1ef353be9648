"""Serving uploaded images in development (nginx serves the same /media/<file> layout in
compose). Falcon's static route refuses path traversal and sets content types."""
import os

from services.posts.images import media_root


def add_media_route(app, config):
    if "MEDIA_ROOT" not in config:
        return
    root = media_root(config)
    os.makedirs(root, exist_ok=True)
    prefix = "/" + str(config.get("MEDIA_URL", "/media/")).strip("/")
    app.add_static_route(prefix, root)

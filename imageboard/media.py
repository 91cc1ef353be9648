"""The media rules, in one place for the gateway (which streams uploads and serves files in
development) and the posts service (which decodes and stores them): accepted types, byte
and pixel limits, thumbnail size, where files live and how their URLs look.

Layout: MEDIA_ROOT/<sha256[:40]>.<ext> and its thumbnail <sha256[:40]>_thumb.<ext>; avatars
as <uuid4 hex>_avatar.<ext> (a name per upload: replacing or removing one never touches a
file someone else uses); served at MEDIA_URL/<name> (nginx in compose, the gateway in
development). Uploads wait for the posts or users service in UPLOAD_DIR (by default
`uploads` beside MEDIA_ROOT, not served) under a bare uuid4 name.
"""
import os
import re
import uuid

from contracts.errors import InvalidImage
from imageboard.config import project_path
from imageboard.settings import settings_of

# Decoded formats and the extension each is stored under (MPO: multi-frame camera JPEG).
FORMATS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png"}
THUMBNAIL_SIZE = (320, 320)  # fits inside, aspect kept
AVATAR_SIZE = 256  # v2 §6.2: a centre-cropped square, at most 256x256, never enlarged
# The limits themselves (MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS) and the places (MEDIA_ROOT,
# MEDIA_URL, UPLOAD_DIR) are settings: config/imageboard.yaml states them.

# What the gateway may hand the posts service: a bare uuid4 hex name, never a path.
UPLOAD_NAME_RE = re.compile(r"[0-9a-f]{32}\.upload")


def max_image_bytes(config):
    return settings_of(config).MAX_IMAGE_BYTES


def max_image_pixels(config):
    return settings_of(config).MAX_IMAGE_PIXELS


def media_root(config):
    return project_path(settings_of(config).MEDIA_ROOT)


def media_url_prefix(config):
    """MEDIA_URL without its trailing slash, e.g. "/media"."""
    return "/" + settings_of(config).MEDIA_URL.strip("/")


def image_url(config, name):
    """The URL path of a stored image (None for none); the gateway makes it absolute."""
    return f"{media_url_prefix(config)}/{name}" if name else None


def thumbnail_name(name):
    stem, _, ext = name.rpartition(".")
    return f"{stem}_thumb.{ext}"


def new_avatar_name(ext):
    return f"{uuid.uuid4().hex}_avatar.{ext}"


def upload_dir(config):
    """UPLOAD_DIR, by default `uploads` beside MEDIA_ROOT (outside what is served, on the
    same volume, so the posts service can take a file without copying it)."""
    configured = settings_of(config).UPLOAD_DIR
    if configured:
        return project_path(configured)
    return os.path.join(os.path.dirname(media_root(config).rstrip("/")), "uploads")


def new_upload_name():
    return f"{uuid.uuid4().hex}.upload"


def upload_path(config, name):
    if not isinstance(name, str) or not UPLOAD_NAME_RE.fullmatch(name):
        raise InvalidImage("Invalid upload reference", code="invalid_upload")
    return os.path.join(upload_dir(config), name)

"""Post images: decoded, checked and stripped by the kernel's pipeline (imageboard/images.py,
contract decision 10), re-encoded with a <= 320x320 thumbnail and stored under MEDIA_ROOT by
content hash.

The gateway streams the upload into UPLOAD_DIR (bounded at MAX_IMAGE_BYTES) and sends
only the file's name over RPC; docs/performance-log.md has the numbers behind that choice.
Decoding and encoding are CPU work that would freeze the eventlet hub (every other
worker of the service, and AMQP heartbeats), so `store_upload` runs it in tpool.
"""
import hashlib
import os

from imageboard import images as pipeline
from imageboard.media import (  # noqa: F401  (media_root, upload_dir...: the media rules)
    FORMATS, THUMBNAIL_SIZE, max_image_pixels, media_root,
    new_upload_name, thumbnail_name, upload_dir, upload_path,
)
from services.posts.exceptions import InvalidImage  # noqa: F401  (callers catch it from here)


def process_image(data, max_pixels=None):
    """bytes -> (extension, image bytes, thumbnail bytes); InvalidImage if it is not a
    JPEG/PNG we are willing to decode (at most max_pixels, by default MAX_IMAGE_PIXELS).
    Pure CPU: call through tpool."""
    image, fmt = pipeline.decode(data, max_pixels or max_image_pixels({}))
    return (FORMATS[fmt], pipeline.encode(image, fmt),
            pipeline.encode(pipeline.thumbnail(image, THUMBNAIL_SIZE), fmt))


def save_images(root, ext, full, thumb):
    """Store under the hash of the re-encoded bytes; returns the image's file name.
    The thumbnail sits beside it as <hash>_thumb.<ext>. Content-addressed: an existing
    file already holds these bytes."""
    digest = hashlib.sha256(full).hexdigest()[:40]
    name = f"{digest}.{ext}"
    pipeline.write_file(os.path.join(root, f"{digest}_thumb.{ext}"), thumb, exist_ok=True)
    pipeline.write_file(os.path.join(root, name), full, exist_ok=True)
    return name


def store_upload(config, upload_name):
    """Process the gateway's upload in an OS thread; the upload file is always removed."""
    def store(data):
        ext, full, thumb = process_image(data, max_image_pixels(config))
        return save_images(media_root(config), ext, full, thumb)
    return pipeline.take_upload(config, upload_name, store)


def delete_images(config, name):
    pipeline.delete_media(config, name, thumbnail_name(name))

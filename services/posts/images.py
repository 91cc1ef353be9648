"""Uploaded images: decoded with Pillow (contract decision 10), re-encoded without
metadata, thumbnailed and stored under MEDIA_ROOT by content hash.

The gateway streams the upload into UPLOAD_DIR (bounded at MAX_IMAGE_BYTES) and sends
only the file's name over RPC; docs/performance-log.md has the numbers behind that choice.
Decoding and encoding are CPU work that would freeze the eventlet hub (every other
worker of the service, and AMQP heartbeats), so `store_upload` runs it in tpool.
"""
import hashlib
import io
import os
import uuid

from eventlet import tpool
from PIL import Image, ImageOps

from imageboard.media import (  # noqa: F401  (media_root, upload_dir...: the media rules)
    FORMATS, THUMBNAIL_SIZE, max_image_pixels, media_root,
    new_upload_name, thumbnail_name, upload_dir, upload_path,
)
from services.posts.exceptions import InvalidImage


def _encode(image, fmt):
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=88)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def process_image(data, max_pixels=None):
    """bytes -> (extension, image bytes, thumbnail bytes); InvalidImage if it is not a
    JPEG/PNG we are willing to decode (at most max_pixels, by default MAX_IMAGE_PIXELS).
    Pure CPU: call through tpool."""
    max_pixels = max_pixels or max_image_pixels({})
    # Pillow's own decompression-bomb guard as a backstop (it raises above 2x this value);
    # our explicit check below rejects anything over the cap before decoding.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        image = Image.open(io.BytesIO(data), formats=["JPEG", "PNG"])
        fmt = "JPEG" if image.format in ("JPEG", "MPO") else image.format
        width, height = image.size
        # Checked on the header, before a single pixel is decoded: a 100 KB PNG can
        # claim 50,000 x 50,000 pixels (a decompression bomb).
        if width * height > max_pixels:
            raise InvalidImage(f"The image has more than {max_pixels} pixels",
                               code="image_too_many_pixels")
        image.load()  # decodes fully: truncated or corrupt files fail here
        # Apply the camera's rotation before the EXIF that records it is dropped.
        image = ImageOps.exif_transpose(image)
        # Keep only what rendering needs; EXIF (GPS), ICC, text chunks are not copied.
        transparency = image.info.get("transparency")
        image.info = {"transparency": transparency} if transparency is not None else {}
        full = _encode(image, fmt)
        thumb = image.copy()
        thumb.thumbnail(THUMBNAIL_SIZE)
        return FORMATS[fmt], full, _encode(thumb, fmt)
    except InvalidImage:
        raise
    except Image.DecompressionBombError:
        raise InvalidImage("The image has too many pixels", code="image_too_many_pixels")
    except (OSError, ValueError, SyntaxError, Image.UnidentifiedImageError, EOFError):
        raise InvalidImage()


def _write_once(path, data):
    """Content-addressed: if the file exists it already holds these bytes."""
    if os.path.exists(path):
        return
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)  # atomic: a reader never sees half a file


def save_images(root, ext, full, thumb):
    """Store under the hash of the re-encoded bytes; returns the image's file name.
    The thumbnail sits beside it as <hash>_thumb.<ext>."""
    digest = hashlib.sha256(full).hexdigest()[:40]
    os.makedirs(root, exist_ok=True)
    name = f"{digest}.{ext}"
    _write_once(os.path.join(root, f"{digest}_thumb.{ext}"), thumb)
    _write_once(os.path.join(root, name), full)
    return name


def _store(config, path):
    with open(path, "rb") as fh:
        data = fh.read()
    ext, full, thumb = process_image(data, max_image_pixels(config))
    return save_images(media_root(config), ext, full, thumb)


def store_upload(config, upload_name):
    """Process the gateway's upload in an OS thread; the upload file is always removed."""
    path = upload_path(config, upload_name)
    if not os.path.exists(path):
        raise InvalidImage("The uploaded file is gone; send it again", code="invalid_upload")
    try:
        return tpool.execute(_store, config, path)
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def delete_images(config, name):
    root = media_root(config)
    for file_name in (name, thumbnail_name(name)):
        try:
            os.unlink(os.path.join(root, file_name))
        except FileNotFoundError:
            pass

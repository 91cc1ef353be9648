"""The image pipeline every upload goes through (contract decision 10, v2 §6.2): post images
(services/posts/images.py) and avatars (services/users/avatars.py) share it, so both are
decoded, checked and stripped the same way.

    image, fmt = decode(data, max_pixels)   # a decoded JPEG/PNG, rotated upright, no metadata
    encode(thumbnail(image, (320, 320)), fmt)
    encode(square(image, 256), fmt)

decode/encode/thumbnail/square are pure CPU work: a service calls them through
`take_upload`, which runs them in eventlet's OS-thread pool (on the hub they would freeze
every other worker of the service and its AMQP heartbeats).
"""
import io
import math
import os
import uuid

from eventlet import tpool
from PIL import Image, ImageOps

from contracts.errors import InvalidImage
from imageboard.media import media_root, upload_path

# What a refused file raises while Pillow decodes or encodes it.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, Image.UnidentifiedImageError, EOFError)


def decode(data, max_pixels, min_side=None):
    """bytes -> (image, "JPEG" | "PNG"), fully decoded, upright, without metadata; else
    InvalidImage (code invalid_image, or image_too_many_pixels past max_pixels). With
    min_side, a JPEG may be decoded scaled down by 1/2, 1/4 or 1/8 as long as its shorter
    side stays at least min_side (libjpeg's DCT scaling: a 12 MP photo made into an avatar
    decodes in a fraction of the time)."""
    # Pillow's own decompression-bomb guard as a backstop (it raises above 2x this value);
    # the explicit check below rejects anything over the cap before decoding.
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
        if min_side and fmt == "JPEG" and min(width, height) > min_side:
            scale = min_side / min(width, height)
            image.draft(image.mode, (math.ceil(width * scale), math.ceil(height * scale)))
        image.load()  # decodes fully: truncated or corrupt files fail here
        # Apply the camera's rotation before the EXIF that records it is dropped.
        image = ImageOps.exif_transpose(image)
        return strip(image), fmt
    except InvalidImage:
        raise
    except Image.DecompressionBombError:
        raise InvalidImage("The image has too many pixels", code="image_too_many_pixels")
    except _DECODE_ERRORS:
        raise InvalidImage()


def strip(image):
    """Keep only what rendering needs: EXIF (GPS), ICC, text chunks are not copied."""
    transparency = image.info.get("transparency")
    image.info = {"transparency": transparency} if transparency is not None else {}
    return image


def encode(image, fmt):
    """The image as JPEG (quality 88) or PNG bytes, with nothing but the pixels."""
    out = io.BytesIO()
    try:
        if fmt == "JPEG":
            if image.mode not in ("RGB", "L", "CMYK"):
                image = image.convert("RGB")
            image.save(out, "JPEG", quality=88)
        else:
            image.save(out, "PNG")
    except _DECODE_ERRORS:
        raise InvalidImage()
    return out.getvalue()


def thumbnail(image, size):
    """A copy that fits inside size (width, height), aspect kept, never enlarged."""
    thumb = image.copy()
    thumb.thumbnail(size)
    return thumb


def square(image, side):
    """The centre square of the image, scaled down to side x side (a smaller one keeps its
    size: never enlarged)."""
    if image.mode in ("P", "1"):
        # Palette images resize with nearest-neighbour only; scale real colours instead.
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    edge = min(side, *image.size)
    cropped = ImageOps.fit(image, (edge, edge), method=Image.Resampling.LANCZOS,
                           centering=(0.5, 0.5))
    return strip(cropped)


def write_file(path, data, exist_ok=False):
    """Write atomically (a reader never sees half a file). With exist_ok, an existing file
    is kept: content-addressed names hold the same bytes."""
    if exist_ok and os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{uuid.uuid4().hex}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def delete_media(config, *names):
    """Remove files of MEDIA_ROOT by name; a missing one is fine."""
    root = media_root(config)
    for name in names:
        try:
            os.unlink(os.path.join(root, name))
        except FileNotFoundError:
            pass


def _read_then(path, work):
    with open(path, "rb") as fh:
        data = fh.read()
    return work(data)


def take_upload(config, upload_name, work):
    """work(bytes of the gateway's upload file), run in an OS thread; the upload file is
    always removed afterwards. An unknown or malformed name is InvalidImage invalid_upload."""
    path = upload_path(config, upload_name)
    if not os.path.exists(path):
        raise InvalidImage("The uploaded file is gone; send it again", code="invalid_upload")
    try:
        return tpool.execute(_read_then, path, work)
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

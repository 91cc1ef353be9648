"""Avatar files (v2 §6.2, decision 20): the kernel's image pipeline (imageboard/images.py:
decoded JPEG/PNG, pixel cap, metadata stripped), then the centre square scaled down to
AVATAR_SIZE; only that is kept, under a name of its own (<uuid4 hex>_avatar.<ext>)."""
import os

from imageboard import images as pipeline
from imageboard.media import (AVATAR_SIZE, FORMATS, max_image_pixels, media_root,
                              new_avatar_name)


def avatar_bytes(data, max_pixels):
    """bytes -> (extension, the avatar's bytes); InvalidImage as for post images. Pure CPU."""
    image, fmt = pipeline.decode(data, max_pixels, min_side=AVATAR_SIZE)
    return FORMATS[fmt], pipeline.encode(pipeline.square(image, AVATAR_SIZE), fmt)


def store_avatar(config, upload_name):
    """The gateway's upload made into an avatar file (in an OS thread); returns its name.
    The upload file is always removed."""
    def store(data):
        ext, avatar = avatar_bytes(data, max_image_pixels(config))
        name = new_avatar_name(ext)
        pipeline.write_file(os.path.join(media_root(config), name), avatar)
        return name
    return pipeline.take_upload(config, upload_name, store)


def delete_avatar(config, name):
    if name:
        pipeline.delete_media(config, name)

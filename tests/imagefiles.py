"""Image files for the posts tests: real JPEG/PNG, exact sizes, bombs, impostors."""
import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825


def jpeg_bytes(size=(64, 48), color=(200, 30, 30), gps=False, orientation=None):
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "SpyCam"  # Make
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)})
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes() if len(exif) else b"")
    return out.getvalue()


def png_bytes(size=(40, 30), mode="RGBA"):
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    return out.getvalue()


def gif_bytes():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    return out.getvalue()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of_exact_size(total):
    """A valid PNG of exactly `total` bytes: a small image plus a private ancillary
    chunk ("prIv", ignored by decoders) as padding, placed before IEND."""
    base = png_bytes((16, 16), "RGB")
    iend = base[-12:]
    padding = total - len(base) - 12
    assert padding >= 0
    return base[:-12] + _chunk(b"prIv", b"\0" * padding) + iend


def png_bomb(width=100_000, height=100_000):
    """A tiny PNG whose header claims width x height pixels (decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")

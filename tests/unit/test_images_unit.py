"""The kernel's image pipeline (imageboard/images.py) and the avatars built on it
(services/users/avatars.py): decode checks, metadata stripping, thumbnails, square crops,
files written and taken."""
import io
import os

import pytest
from PIL import Image

from contracts.errors import BadRequest, InvalidImage
from imageboard import images
from imageboard.media import new_upload_name, upload_dir
from services.users import avatars
from tests.imagefiles import GPS_IFD, gif_bytes, jpeg_bytes, png_bomb, png_bytes

MAX_PIXELS = 40_000_000


def reopen(data):
    return Image.open(io.BytesIO(data))


def palette_png(size, transparent=True):
    image = Image.new("P", size, 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    out = io.BytesIO()
    image.save(out, "PNG", **({"transparency": 0} if transparent else {}))
    return out.getvalue()


# --- decode ----------------------------------------------------------------------------
def test_decode_gives_the_format_and_drops_every_metadata_item():
    image, fmt = images.decode(jpeg_bytes((300, 200), gps=True), MAX_PIXELS)
    assert fmt == "JPEG" and image.size == (300, 200) and image.info == {}
    encoded = images.encode(image, fmt)
    assert b"SpyCam" not in encoded and len(reopen(encoded).getexif()) == 0


def test_decode_turns_the_image_upright_before_dropping_the_orientation():
    image, _ = images.decode(jpeg_bytes((300, 200), orientation=6), MAX_PIXELS)
    assert image.size == (200, 300)


def test_decode_keeps_png_transparency_only():
    image, fmt = images.decode(palette_png((10, 10)), MAX_PIXELS)
    assert fmt == "PNG" and image.info == {"transparency": 0}


@pytest.mark.parametrize("data,code", [
    (gif_bytes(), "invalid_image"),
    (b"", "invalid_image"),
    (b"not an image at all", "invalid_image"),
    (jpeg_bytes((400, 400))[:600], "invalid_image"),
    (png_bomb(), "image_too_many_pixels"),
])
def test_decode_refuses_anything_but_a_sane_jpeg_or_png(data, code):
    with pytest.raises(InvalidImage) as err:
        images.decode(data, MAX_PIXELS)
    assert err.value.code == code and isinstance(err.value, BadRequest)


def test_the_pixel_cap_is_checked_on_the_header():
    with pytest.raises(InvalidImage) as err:
        images.decode(png_bytes((100, 100)), 9_999)
    assert err.value.code == "image_too_many_pixels"
    assert images.decode(png_bytes((100, 100)), 10_000)[0].size == (100, 100)


# --- encode, thumbnail, square -------------------------------------------------------
def test_encode_writes_jpeg_from_any_mode_and_png_as_is():
    rgba = Image.new("RGBA", (20, 10), (1, 2, 3, 4))
    assert reopen(images.encode(rgba, "JPEG")).format == "JPEG"
    png = reopen(images.encode(rgba, "PNG"))
    assert png.format == "PNG" and png.mode == "RGBA"


def test_thumbnail_fits_inside_and_never_enlarges():
    assert images.thumbnail(Image.new("RGB", (1000, 500)), (320, 320)).size == (320, 160)
    assert images.thumbnail(Image.new("RGB", (100, 50)), (320, 320)).size == (100, 50)


@pytest.mark.parametrize("size,expected", [
    ((1000, 500), (256, 256)),   # wide: scaled down
    ((500, 1000), (256, 256)),   # tall
    ((256, 256), (256, 256)),
    ((300, 120), (120, 120)),    # smaller side under 256: cropped, not enlarged
    ((50, 50), (50, 50)),
    ((1, 700), (1, 1)),
])
def test_square_is_the_centre_scaled_down_to_the_side(size, expected):
    assert images.square(Image.new("RGB", size), 256).size == expected


def test_square_keeps_the_centre_and_cuts_the_sides():
    image = Image.new("RGB", (300, 100), (255, 0, 0))
    image.paste((0, 255, 0), (100, 0, 200, 100))  # the centre 100x100 is green
    cropped = images.square(image, 256)
    assert cropped.size == (100, 100)
    assert {cropped.getpixel((x, y)) for x in range(100) for y in range(100)} == {(0, 255, 0)}


def test_square_of_a_palette_image_resamples_real_colours_and_keeps_no_metadata():
    image, _ = images.decode(palette_png((600, 300)), MAX_PIXELS)
    cropped = images.square(image, 256)
    assert cropped.mode == "RGBA" and cropped.size == (256, 256) and cropped.info == {}
    opaque, _ = images.decode(palette_png((600, 300), transparent=False), MAX_PIXELS)
    assert images.square(opaque, 256).mode == "RGB"


# --- files -----------------------------------------------------------------------------
def test_write_file_is_atomic_and_exist_ok_keeps_the_first(tmp_path):
    path = str(tmp_path / "deep" / "a.png")
    images.write_file(path, b"one")
    images.write_file(path, b"two", exist_ok=True)
    assert open(path, "rb").read() == b"one"
    images.write_file(path, b"three")
    assert open(path, "rb").read() == b"three"
    assert os.listdir(tmp_path / "deep") == ["a.png"]  # no temporary file left


def test_delete_media_ignores_missing_files(tmp_path):
    config = {"MEDIA_ROOT": str(tmp_path)}
    (tmp_path / "x.png").write_bytes(b"x")
    images.delete_media(config, "x.png", "missing.png")
    assert os.listdir(tmp_path) == []


def _upload(config, data):
    folder = upload_dir(config)
    os.makedirs(folder, exist_ok=True)
    name = new_upload_name()
    with open(os.path.join(folder, name), "wb") as fh:
        fh.write(data)
    return name


def test_take_upload_runs_the_work_and_always_removes_the_upload(tmp_path):
    config = {"MEDIA_ROOT": str(tmp_path / "media")}
    assert images.take_upload(config, _upload(config, b"abc"), len) == 3
    with pytest.raises(InvalidImage):
        images.take_upload(config, _upload(config, b"abc"),
                           lambda data: images.decode(data, MAX_PIXELS))
    assert os.listdir(upload_dir(config)) == []
    with pytest.raises(InvalidImage) as err:
        images.take_upload(config, new_upload_name(), len)   # never written
    assert err.value.code == "invalid_upload"
    with pytest.raises(InvalidImage):
        images.take_upload(config, "../../etc/passwd", len)


# --- avatars ---------------------------------------------------------------------------
def test_avatar_bytes_are_a_stripped_256_square_in_the_decoded_format():
    ext, data = avatars.avatar_bytes(jpeg_bytes((900, 600), gps=True), MAX_PIXELS)
    image = reopen(data)
    assert ext == "jpg" and image.format == "JPEG" and image.size == (256, 256)
    assert len(image.getexif()) == 0 and not image.getexif().get_ifd(GPS_IFD)
    ext, data = avatars.avatar_bytes(png_bytes((40, 30)), MAX_PIXELS)
    assert ext == "png" and reopen(data).size == (30, 30)


def test_store_avatar_keeps_only_the_square_under_a_new_name(tmp_path):
    config = {"MEDIA_ROOT": str(tmp_path / "media")}
    names = [avatars.store_avatar(config, _upload(config, png_bytes((400, 300))))
             for _ in range(2)]
    assert names[0] != names[1]  # the same image twice: two files, each with one owner
    assert all(n.endswith("_avatar.png") and len(n) == 32 + len("_avatar.png") for n in names)
    assert sorted(os.listdir(config["MEDIA_ROOT"])) == sorted(names)
    assert os.listdir(upload_dir(config)) == []
    avatars.delete_avatar(config, names[0])
    avatars.delete_avatar(config, None)
    assert os.listdir(config["MEDIA_ROOT"]) == [names[1]]


def test_a_large_jpeg_may_be_decoded_scaled_down_but_never_below_min_side():
    data = jpeg_bytes((2400, 1200))
    full, _ = images.decode(data, MAX_PIXELS)
    scaled, _ = images.decode(data, MAX_PIXELS, min_side=256)
    assert full.size == (2400, 1200) and scaled.size == (600, 300)   # 1/4: 300 >= 256
    assert images.decode(png_bytes((2400, 1200)), MAX_PIXELS, min_side=256)[0].size == \
        (2400, 1200)                                                 # PNG: no DCT scaling
    rotated, _ = images.decode(jpeg_bytes((2400, 1200), orientation=6), MAX_PIXELS, min_side=256)
    assert rotated.size == (300, 600)
    with pytest.raises(InvalidImage):
        images.decode(jpeg_bytes((2400, 1200))[:2000], MAX_PIXELS, min_side=256)  # truncated


def test_avatar_of_a_large_photo_keeps_its_centre():
    image = Image.new("RGB", (3000, 1500), (255, 0, 0))
    image.paste((0, 255, 0), (700, 0, 2300, 1500))   # the centre 1500x1500 and a margin
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    _, data = avatars.avatar_bytes(out.getvalue(), MAX_PIXELS)
    avatar = reopen(data)
    assert avatar.size == (256, 256)
    for xy in ((0, 0), (255, 0), (0, 255), (255, 255)):
        assert all(abs(a - b) <= 30 for a, b in zip(avatar.getpixel(xy), (0, 255, 0))), xy

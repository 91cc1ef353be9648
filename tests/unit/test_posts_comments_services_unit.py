"""Posts and comments services without a broker: entrypoints (worker_factory), schemas at
every length edge, and the image pipeline."""
import io
import os
from unittest.mock import MagicMock

import eventlet
import pytest
from nameko.exceptions import UnknownService
from nameko.testing.services import worker_factory
from PIL import Image

from contracts.errors import BadRequest, ServiceUnavailable, ValidationFailed
from contracts.schemas import CommentCreateRequest, PostCreate, load
from services.comments.dependencies import PostsClient
from services.comments.service import CommentsService
from services.posts import images
from services.posts.exceptions import InvalidImage
from services.posts.service import PostsService
from tests.imagefiles import gif_bytes, jpeg_bytes, png_bomb, png_bytes, png_of_exact_size


# --- entrypoints ------------------------------------------------------------------------

def test_posts_entrypoints_delegate_to_the_store():
    service = worker_factory(PostsService)
    service.posts.list.return_value = {"count": 0, "results": []}
    assert service.list_posts(2, 10, "-likes_count") == {"count": 0, "results": []}
    service.posts.list.assert_called_once_with(2, 10, "-likes_count")
    service.create_post({"title": "t"}, {"id": 1, "username": "a"})
    service.posts.create.assert_called_once_with({"title": "t"}, {"id": 1, "username": "a"})
    assert service.ping() == "pong"


def test_deleting_a_post_asks_the_comments_service_to_delete_its_comments():
    service = worker_factory(PostsService)
    service.posts.delete.return_value = {"post_id": 5}
    assert service.delete_post(5, {"id": 1, "is_admin": False}) == {"post_id": 5}
    service.comments.delete_for_post.call_async.assert_called_once_with(5)


@pytest.mark.parametrize("failure", [UnknownService("comments"), RuntimeError("boom")])
def test_post_deletion_stands_when_the_comments_cleanup_fails(failure):
    service = worker_factory(PostsService)
    service.posts.delete.return_value = {"post_id": 5}
    service.comments.delete_for_post.call_async.side_effect = failure
    assert service.delete_post(5, {"id": 1}) == {"post_id": 5}


def test_comments_entrypoints_hand_the_posts_proxy_to_the_store():
    service = worker_factory(CommentsService)
    service.create_comment({"post_id": 1, "content": "x"}, {"id": 2, "username": "b"})
    service.comments.create.assert_called_once_with({"post_id": 1, "content": "x"},
                                                    {"id": 2, "username": "b"}, service.posts)
    service.list_comments(3, 1, 20)
    service.comments.list.assert_called_once_with(3, 1, 20)
    assert service.ping() == "pong"


def test_posts_client_turns_silence_into_service_unavailable():
    never = MagicMock()
    never.comment_target.call_async.return_value.result.side_effect = lambda: eventlet.sleep(10)
    with pytest.raises(ServiceUnavailable):
        PostsClient(never, timeout=0.05).call("comment_target", 1)
    missing = MagicMock()
    missing.comment_target.call_async.side_effect = UnknownService("posts")
    with pytest.raises(ServiceUnavailable):
        PostsClient(missing, timeout=1).call("comment_target", 1)


# --- length edges (decision 1: missing -> 400, present but invalid -> 422) --------------

@pytest.mark.parametrize("field,limit", [("title", 255), ("content", 5000)])
def test_post_field_edges(field, limit):
    ok = {"title": "t", "content": "c", field: "x" * limit}
    assert load(PostCreate, ok)[field] == "x" * limit
    with pytest.raises(ValidationFailed) as err:
        load(PostCreate, dict(ok, **{field: "x" * (limit + 1)}))
    assert field in err.value.fields
    for empty in ("", "   "):
        with pytest.raises(ValidationFailed):
            load(PostCreate, dict(ok, **{field: empty}))
    with pytest.raises(BadRequest):
        load(PostCreate, {k: v for k, v in ok.items() if k != field})


def test_comment_field_edges():
    assert load(CommentCreateRequest, {"post_id": 1, "content": "x" * 1000})["parent"] is None
    with pytest.raises(ValidationFailed):
        load(CommentCreateRequest, {"post_id": 1, "content": "x" * 1001})
    for bad in ({"post_id": "1", "content": "x"}, {"post_id": 0, "content": "x"},
                {"post_id": True, "content": "x"}, {"post_id": 1, "content": "x", "parent": "2"},
                {"post_id": 1, "content": ""}):
        with pytest.raises(ValidationFailed):
            load(CommentCreateRequest, bad)
    for missing in ({"content": "x"}, {"post_id": 1}):
        with pytest.raises(BadRequest):
            load(CommentCreateRequest, missing)


# --- images -----------------------------------------------------------------------------

def test_jpeg_is_reencoded_without_exif_or_gps():
    original = jpeg_bytes((300, 200), gps=True)
    assert b"SpyCam" in original
    ext, full, thumb = images.process_image(original)
    assert ext == "jpg" and b"SpyCam" not in full and b"SpyCam" not in thumb
    decoded = Image.open(io.BytesIO(full))
    assert decoded.format == "JPEG" and decoded.size == (300, 200)
    assert len(decoded.getexif()) == 0


def test_camera_rotation_is_applied_before_exif_is_dropped():
    _, full, _ = images.process_image(jpeg_bytes((300, 200), orientation=6))  # 90 degrees
    assert Image.open(io.BytesIO(full)).size == (200, 300)


def test_png_keeps_its_format_and_gets_a_thumbnail():
    ext, full, thumb = images.process_image(png_bytes((1000, 500)))
    assert ext == "png" and Image.open(io.BytesIO(full)).mode == "RGBA"
    assert Image.open(io.BytesIO(thumb)).size == (320, 160)


@pytest.mark.parametrize("data,code", [
    (gif_bytes(), "invalid_image"),
    (b"just some text pretending to be a jpg", "invalid_image"),
    (b"", "invalid_image"),
    (jpeg_bytes((400, 400))[:600], "invalid_image"),   # truncated
    (png_bomb(), "image_too_many_pixels"),             # 10^10 pixels in 1 KB
    (png_bomb(6400, 6251), "image_too_many_pixels"),   # just past the 40 MP cap
])
def test_anything_but_a_sane_jpeg_or_png_is_invalid(data, code):
    with pytest.raises(InvalidImage) as err:
        images.process_image(data)
    assert err.value.code == code and isinstance(err.value, BadRequest)


def test_pixel_cap_is_configurable():
    with pytest.raises(InvalidImage):
        images.process_image(png_bytes((100, 100)), max_pixels=9999)
    assert images.process_image(png_bytes((100, 100)), max_pixels=10000)[0] == "png"


def test_store_upload_names_files_by_content_hash_and_removes_the_upload(tmp_path):
    config = {"MEDIA_ROOT": str(tmp_path / "media")}
    names = []
    for _ in range(2):
        folder = images.upload_dir(config)
        os.makedirs(folder, exist_ok=True)
        upload = images.new_upload_name()
        with open(os.path.join(folder, upload), "wb") as fh:
            fh.write(png_of_exact_size(5000))
        names.append(images.store_upload(config, upload))
        assert os.listdir(folder) == []
    assert names[0] == names[1] and names[0].endswith(".png")  # same bytes, same file
    assert sorted(os.listdir(config["MEDIA_ROOT"])) == sorted([names[0], images.thumbnail_name(names[0])])


@pytest.mark.parametrize("name", ["../etc/passwd", "/tmp/x", "abc.upload", None, 5])
def test_upload_references_must_be_bare_generated_names(tmp_path, name):
    with pytest.raises(InvalidImage):
        images.store_upload({"MEDIA_ROOT": str(tmp_path)}, name)


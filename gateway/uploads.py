"""Upload bodies: POST /api/posts/ (multipart/form-data title, content, image, or JSON) and
PUT /api/users/me/avatar/ (multipart/form-data, one file part `avatar`).

Text fields are read into memory, bounded. The image is streamed to UPLOAD_DIR in 64 KiB
chunks and never held whole in memory; it is refused with 413 as soon as the declared
Content-Length or the bytes actually read pass MAX_IMAGE_BYTES, so nothing much past the
limit is buffered. Only the file's name travels to the posts or users service (RPC messages
stay small; docs/performance-log.md compares that with sending the bytes in the message).
"""
import os

from gateway.media import json_body
from contracts.errors import BadRequest, PayloadTooLarge
from contracts.schemas.loading import REQUIRED
from imageboard.media import max_image_bytes, new_upload_name, upload_dir

# Room for title (<= 255 chars), content (<= 5000 chars, <= 20 KB as UTF-8) and the
# multipart boundaries and part headers.
FORM_OVERHEAD = 64 * 1024
MAX_TEXT_PART = 64 * 1024
CHUNK = 64 * 1024
TEXT_FIELDS = ("title", "content")


class Form:
    def __init__(self, fields, upload=None, upload_path=None):
        self.fields = fields
        self.upload = upload          # file name in UPLOAD_DIR, for the service
        self.upload_path = upload_path

    def discard(self):
        """Remove the upload if the service did not take it (it deletes what it takes)."""
        if self.upload_path:
            try:
                os.unlink(self.upload_path)
            except FileNotFoundError:
                pass

    def payload(self):
        payload = dict(self.fields)
        if self.upload:
            payload["image_upload"] = self.upload
        return payload


def _too_large(limit):
    return PayloadTooLarge(f"The image is larger than {limit} bytes", code="image_too_large")


def _is_multipart(req):
    return (req.content_type or "").lower().startswith("multipart/form-data")


def read_post_form(req, config):
    if not _is_multipart(req):
        body = json_body(req)
        if isinstance(body, dict):
            # image_upload names a file the gateway wrote; a client's own value would make
            # the service take whatever upload it names (mass assignment, OWASP API3).
            body.pop("image_upload", None)
        return Form(body)
    return _read_multipart(req, config, "image", TEXT_FIELDS, "Only one image per post")


def read_avatar_form(req, config):
    """The avatar: its file part streamed to UPLOAD_DIR, any other part drained. No file
    part (or an empty one, or a body that is not multipart) is 400 missing_fields."""
    form = Form({})
    if _is_multipart(req):
        form = _read_multipart(req, config, "avatar", (), "Only one avatar file")
    if not form.upload:
        raise BadRequest("A multipart/form-data file part 'avatar' is required",
                         code="missing_fields", fields={"avatar": REQUIRED})
    return form


def _read_multipart(req, config, file_field, text_fields, only_one):
    limit = max_image_bytes(config)
    if req.content_length is not None and req.content_length > limit + FORM_OVERHEAD:
        raise _too_large(limit)
    form = Form({})
    try:
        for part in req.get_media():
            if part.name == file_field:
                _save_file(part, form, config, limit, only_one)
            elif part.name in text_fields:
                form.fields[part.name] = _read_text(part)
            else:
                _drain(part, limit + FORM_OVERHEAD)
    except BaseException:
        form.discard()
        raise
    return form


def _read_text(part):
    raw = part.stream.read(MAX_TEXT_PART + 1)
    if len(raw) > MAX_TEXT_PART:
        raise PayloadTooLarge(f"Form field {part.name!r} is larger than {MAX_TEXT_PART} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"Form field {part.name!r} is not valid UTF-8", code="invalid_form",
                         fields={part.name: "must be UTF-8 text"})


def _save_file(part, form, config, limit, only_one):
    if form.upload_path:
        raise BadRequest(only_one, code="invalid_form",
                         fields={part.name: "only one file allowed"})
    folder = upload_dir(config)
    os.makedirs(folder, exist_ok=True)
    name = new_upload_name()
    form.upload, form.upload_path = name, os.path.join(folder, name)
    size = 0
    with open(form.upload_path, "wb") as fh:
        while True:
            chunk = part.stream.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            fh.write(chunk)
    if size == 0:
        # A browser form with no file chosen sends an empty part: no file.
        form.discard()
        form.upload = form.upload_path = None


def _drain(part, limit):
    size = 0
    while chunk := part.stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge("Form part too large")

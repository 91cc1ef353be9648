"""JSON request bodies: bounded in size and depth, and always a clear 400/413."""
import json

from falcon import media

from contracts.errors import BadRequest, PayloadTooLarge

MAX_JSON_BODY = 64 * 1024  # bytes; the largest legitimate body (a comment) is ~4 KB


def _loads(text):
    try:
        return json.loads(text)
    except RecursionError:  # absurdly nested arrays/objects
        raise ValueError("JSON nested too deeply")


class JSONHandler(media.JSONHandler):
    def __init__(self):
        super().__init__(loads=_loads)


def json_body(req):
    """The request's JSON object, or a DomainError the error handler turns into 4xx.

    The body is parsed as JSON whatever Content-Type says (clients such as `curl -d`
    send form-urlencoded by default); reading stops just past the size limit.
    """
    if req.content_length is not None and req.content_length > MAX_JSON_BODY:
        raise PayloadTooLarge(f"JSON body larger than {MAX_JSON_BODY} bytes")
    # Without Content-Length (chunked transfer) falcon's bounded_stream reads nothing;
    # gunicorn's wsgi.input decodes the chunks itself and ends at the last one.
    stream = req.bounded_stream if req.content_length is not None else req.stream
    raw = stream.read(MAX_JSON_BODY + 1)
    if len(raw) > MAX_JSON_BODY:
        raise PayloadTooLarge(f"JSON body larger than {MAX_JSON_BODY} bytes")
    if not raw.strip():
        raise BadRequest("Request body is empty; a JSON object is required", code="invalid_json")
    try:
        body = _loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Request body is not valid JSON", code="invalid_json")
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object", code="invalid_json")
    return body

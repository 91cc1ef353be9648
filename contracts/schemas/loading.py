"""load(Model, data): a request body checked against its model, every problem at once, in
the contract's terms (decision 1):

- not a JSON object                      -> BadRequest, code "invalid_body" (400)
- required fields absent (or null)       -> BadRequest, code "missing_fields" (400), only those
- fields present with invalid values     -> ValidationFailed, code "validation_error" (422)

`fields` maps each field to one problem, worded as clients have always seen it ("must be at
most 255 characters", "This field is required."). A null counts as absent: an optional
field takes its default. No text may contain NUL (PostgreSQL text cannot hold it): a NUL
in a string given to a text field is that field's problem, before its length or format.
"""
import functools
import types
import typing

from pydantic import ValidationError

from contracts.errors import BadRequest, ValidationFailed
from contracts.schemas.types import Explain

REQUIRED = "This field is required."
NUL = "must not contain NUL characters"


def _too_short(ctx):
    if ctx["min_length"] == 1:
        return "must not be empty"
    return f"must be at least {ctx['min_length']} characters"


# pydantic's error type -> the contract's wording (ctx holds the constraint's value).
MESSAGES = {
    "string_type": lambda ctx: "must be a string",
    "int_type": lambda ctx: "must be an integer",
    "bool_type": lambda ctx: "must be true or false",
    "string_too_short": _too_short,
    "string_too_long": lambda ctx: f"must be at most {ctx['max_length']} characters",
    "greater_than_equal": lambda ctx: f"must be at least {ctx['ge']}",
    "less_than_equal": lambda ctx: f"must be at most {ctx['le']}",
    "string_pattern_mismatch": lambda ctx: "has an invalid format",
}


@functools.cache
def _fields(model):
    """(field names in order, names of the text fields, {field: {error type: message}}
    from Explain markers)."""
    texts, explained = set(), {}
    for name, info in model.model_fields.items():
        if _is_text(info.annotation):
            texts.add(name)
        for item in info.metadata:
            if isinstance(item, Explain):
                explained[name] = item.messages
    return tuple(model.model_fields), frozenset(texts), explained


def _is_text(annotation):
    """str, Annotated[str, ...], or either of them | None."""
    if annotation is str:
        return True
    if typing.get_origin(annotation) is typing.Annotated:
        return _is_text(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_text(arg) for arg in typing.get_args(annotation))
    return False


def load(model, data):
    """The validated fields of `data` as a dict (unknown fields dropped), or raise."""
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object", code="invalid_body")
    names, texts, explained = _fields(model)
    values, nul = {}, {}
    for name in names:
        value = data.get(name)
        if value is None:
            continue
        if name in texts and isinstance(value, str) and "\x00" in value:
            nul[name] = NUL
        values[name] = value
    try:
        loaded = model.model_validate(values)
    except ValidationError as exc:
        missing, invalid = _problems(exc, explained)
    else:
        if not nul:
            return loaded.model_dump()
        missing, invalid = {}, {}
    if missing:
        raise BadRequest("Required fields are missing", code="missing_fields", fields=missing)
    invalid.update(nul)  # NUL is the problem of its field, before any other
    raise ValidationFailed(fields={name: invalid[name] for name in names if name in invalid})


def _problems(exc, explained):
    """({field: REQUIRED}, {field: its first problem}) from a pydantic ValidationError."""
    missing, invalid = {}, {}
    for error in exc.errors(include_url=False, include_input=False):
        name = error["loc"][0]
        if error["type"] == "missing":
            missing[name] = REQUIRED
        elif name not in invalid:
            invalid[name] = _message(error, explained.get(name))
    return missing, invalid


def _message(error, explained):
    if explained and error["type"] in explained:
        return explained[error["type"]]
    wording = MESSAGES.get(error["type"])
    if wording is not None:
        return wording(error.get("ctx") or {})
    return error["msg"]  # a PydanticCustomError of a model carries the contract's words

"""What the models of contracts.schemas are built from: the two kinds of model (request,
response), the field types they share, and the limits that are not any one field's.

Request bodies are open (unknown fields are ignored) and strictly typed: "1" is not an
integer and neither is JSON true. Response bodies are closed (extra="forbid" becomes
additionalProperties: false in the OpenAPI document): the contract allows no extra field.
"""
import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticKnownError, core_schema

# Contract decision 3: `limit` defaults to 20 and is capped at 100; `page` starts at 1.
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Ids the services accept in a request body: PostgreSQL bigint.
BIGINT_MAX = 2**63 - 1
# Ids the document promises in responses and paths (the columns are bigint; the document
# has always said 32 bits, and changing what it promises clients is not for this layer).
ID_MAX = 2**31 - 1


class Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class Response(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class _Stripped:
    """str.strip() (Python's idea of whitespace) before the length rules are checked, so
    "   " is empty. A string longer than max_length as sent is refused before the strip:
    the OpenAPI document's maxLength holds for what the client sends (schemathesis found
    256 characters with a leading U+001E accepted as a 255-character title)."""

    def __get_pydantic_core_schema__(self, source, handler):
        schema = handler(source)  # the string with the constraints declared before us
        max_length = schema.get("max_length")

        def strip(value):
            if not isinstance(value, str):
                return value
            if max_length is not None and len(value) > max_length:
                raise PydanticKnownError("string_too_long", {"max_length": max_length})
            return value.strip()
        return core_schema.no_info_before_validator_function(strip, schema)


# Annotated[str, Field(max_length=...), STRIPPED]: the constraints first, so that they are
# the string's own (error types string_too_short/_long), and the strip runs before them.
STRIPPED = _Stripped()


class Explain:
    """Per-field wording of an error type, for messages the constraint cannot say:
    Annotated[str, Field(pattern=...), Explain(string_pattern_mismatch="may contain only ...")].
    contracts.schemas.loading reads it; pydantic ignores it."""

    def __init__(self, **messages):
        self.messages = messages


def _no_default(schema):
    schema.pop("default", None)


def omittable(**kwargs):
    """A response field that may be absent (never null): not required, no default shown."""
    return Field(default=None, json_schema_extra=_no_default, **kwargs)


Id = Annotated[int, Field(ge=1, le=ID_MAX)]
BigId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
Count = Annotated[int, Field(ge=0)]
Ratio = Annotated[float, Field(ge=0)]
Timestamp = Annotated[AwareDatetime, Field(
    description="ISO 8601 in UTC with an explicit offset (decision 2).")]
Date = Annotated[datetime.date, Field(description="YYYY-MM-DD")]
# An absolute http(s) URL as the client gets it (the services send a path, the gateway
# prefixes the client's scheme and host); a plain string to pydantic.
Url = Annotated[str, WithJsonSchema({"type": "string", "format": "uri"})]

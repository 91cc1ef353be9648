"""Hostile strings the shared validation must refuse before they reach a database."""
from typing import Annotated

import pytest
from pydantic import Field

from contracts.errors import ValidationFailed
from contracts.schemas import load
from contracts.schemas.types import STRIPPED, Request


class Comment(Request):
    content: Annotated[str, Field(min_length=1, max_length=100), STRIPPED]


@pytest.mark.parametrize("value", ["a\x00b", "\x00", "trailing\x00"])
def test_nul_characters_are_422(value):
    with pytest.raises(ValidationFailed) as err:
        load(Comment, {"content": value})
    assert err.value.fields == {"content": "must not contain NUL characters"}


def test_other_unusual_unicode_is_kept():
    value = "a\u202eb\ufeff\U0001F600"
    assert load(Comment, {"content": value}) == {"content": value}

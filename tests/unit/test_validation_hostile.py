"""Hostile strings the shared validators must refuse before they reach a database."""
import pytest

from contracts.errors import ValidationFailed
from imageboard.validation import Schema, String


class Comment(Schema):
    fields = {"content": String(min_length=1, max_length=100, strip=True)}


@pytest.mark.parametrize("value", ["a\x00b", "\x00", "trailing\x00"])
def test_nul_characters_are_422(value):
    with pytest.raises(ValidationFailed) as err:
        Comment.load({"content": value})
    assert err.value.fields == {"content": "must not contain NUL characters"}


def test_other_unusual_unicode_is_kept():
    value = "a\u202eb\ufeff\U0001F600"
    assert Comment.load({"content": value}) == {"content": value}

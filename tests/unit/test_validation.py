import pytest

from contracts.errors import BadRequest, ValidationFailed
from contracts.schemas import LoginRequest, RegisterRequest, load

VALID = {"username": "alice_01", "email": "Alice@Example.com", "password": "12345678"}


def test_register_accepts_valid_data_and_defaults_optional_names():
    data = load(RegisterRequest, VALID)
    assert data["username"] == "alice_01"
    assert data["email"] == "Alice@example.com"  # domain part normalised
    assert data["first_name"] == "" and data["last_name"] == ""


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_missing_required_field_is_bad_request(missing):
    payload = {k: v for k, v in VALID.items() if k != missing}
    with pytest.raises(BadRequest) as err:
        load(RegisterRequest, payload)
    assert missing in err.value.fields


@pytest.mark.parametrize("field,value", [
    ("username", "ab"),                 # 2 < 3
    ("username", "a" * 33),             # 33 > 32
    ("username", "bad-name"),           # hyphen not allowed
    ("username", "имя_юзера"),          # letters, but not ASCII
    ("username", 123),                  # wrong type
    ("email", "not-an-email"),
    ("password", "1234567"),            # 7 < 8
    ("first_name", "x" * 151),
])
def test_invalid_values_are_validation_errors(field, value):
    with pytest.raises(ValidationFailed) as err:
        load(RegisterRequest, dict(VALID, **{field: value}))
    assert list(err.value.fields) == [field]


@pytest.mark.parametrize("username", ["abc", "a" * 32, "A_1"])
def test_username_length_edges_accepted(username):
    assert load(RegisterRequest, dict(VALID, username=username))["username"] == username


def test_password_of_exactly_eight_characters_is_accepted():
    assert load(RegisterRequest, dict(VALID, password="x" * 8))["password"] == "x" * 8


def test_body_must_be_an_object():
    with pytest.raises(BadRequest):
        load(LoginRequest, ["username", "password"])


def test_missing_fields_reported_before_invalid_ones():
    with pytest.raises(BadRequest):
        load(RegisterRequest, {"username": "x"})

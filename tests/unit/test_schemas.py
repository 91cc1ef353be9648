"""contracts.schemas: load() in the contract's terms (decision 1), and the OpenAPI
document's components generated from the models."""
import pytest

from contracts.errors import BadRequest, ValidationFailed
from contracts.schemas import (CommentCreateRequest, Health, PostCreate, PostCreateForm,
                               PostPage, Profile, RegisterRequest, load)
from contracts.schemas.posts import CONTENT_MAX, TITLE_MAX
from contracts.schemas.types import MAX_LIMIT
from gateway.openapi import REF_TEMPLATE, ComponentSchema, openapi_document

COMPONENTS = openapi_document()["components"]["schemas"]
VALID = {"username": "alice_01", "email": "alice@example.com", "password": "12345678"}


# --- load ---------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [[], "text", 1, None, ["post_id", "content"]])
def test_a_body_that_is_not_an_object_is_invalid_body(body):
    with pytest.raises(BadRequest) as err:
        load(CommentCreateRequest, body)
    assert err.value.code == "invalid_body" and err.value.fields is None
    assert err.value.message == "Request body must be a JSON object"


def test_missing_fields_are_400_all_at_once_and_null_counts_as_missing():
    with pytest.raises(BadRequest) as err:
        load(RegisterRequest, {"username": None, "password": "12345678"})
    assert type(err.value) is BadRequest and err.value.code == "missing_fields"
    assert err.value.message == "Required fields are missing"
    assert err.value.fields == {"username": "This field is required.",
                                "email": "This field is required."}


def test_missing_wins_over_invalid():
    with pytest.raises(BadRequest) as err:
        load(CommentCreateRequest, {"content": "x" * 5000})
    assert err.value.code == "missing_fields" and err.value.fields == {
        "post_id": "This field is required."}


def test_every_invalid_field_is_reported_at_once_with_the_contract_wording():
    with pytest.raises(ValidationFailed) as err:
        load(RegisterRequest, {"username": "bad-name", "email": "nope", "password": "short",
                               "first_name": "x" * 151, "last_name": 7})
    assert err.value.code == "validation_error"
    assert err.value.fields == {
        "username": "may contain only letters, digits and underscores",
        "email": "is not a valid email address (An email address must have an @-sign.)",
        "password": "must be at least 8 characters",
        "first_name": "must be at most 150 characters",
        "last_name": "must be a string",
    }
    assert list(err.value.fields) == ["username", "email", "password", "first_name", "last_name"]


def test_integers_are_strict_bool_and_text_and_float_are_not_ids():
    for value in (True, False, "1", 1.0):
        with pytest.raises(ValidationFailed) as err:
            load(CommentCreateRequest, {"post_id": value, "content": "x", "parent": value})
        assert err.value.fields == {"post_id": "must be an integer",
                                    "parent": "must be an integer"}
    with pytest.raises(ValidationFailed) as err:
        load(CommentCreateRequest, {"post_id": 0, "content": "x", "parent": 2**63})
    assert err.value.fields == {"post_id": "must be at least 1",
                                "parent": "must be at most 9223372036854775807"}


def test_text_is_stripped_before_its_length_is_checked():
    assert load(PostCreate, {"title": "  t  ", "content": "\n" + "c" * (CONTENT_MAX - 2) + " "}) == {
        "title": "t", "content": "c" * (CONTENT_MAX - 2)}
    with pytest.raises(ValidationFailed) as err:
        load(PostCreate, {"title": " \t ", "content": "x" * (CONTENT_MAX + 1)})
    assert err.value.fields == {"title": "must not be empty",
                                "content": f"must be at most {CONTENT_MAX} characters"}


def test_text_longer_than_the_limit_as_sent_is_refused_even_if_stripping_would_fit():
    # The document's maxLength is about the string the client sends (schemathesis, issue 16).
    with pytest.raises(ValidationFailed) as err:
        load(PostCreate, {"title": "\x1e" + "t" * 255, "content": "\n" + "c" * CONTENT_MAX})
    assert err.value.fields == {"title": "must be at most 255 characters",
                                "content": f"must be at most {CONTENT_MAX} characters"}


def test_passwords_are_not_stripped():
    assert load(RegisterRequest, dict(VALID, password=" 1234567 "))["password"] == " 1234567 "


def test_nul_is_refused_in_text_before_other_problems_but_not_in_numbers():
    with pytest.raises(ValidationFailed) as err:
        load(CommentCreateRequest, {"post_id": "1\x00", "content": "x" * 2000 + "\x00"})
    assert err.value.fields == {"post_id": "must be an integer",
                                "content": "must not contain NUL characters"}
    with pytest.raises(ValidationFailed) as err:  # the only problem
        load(PostCreate, {"title": "a\x00b", "content": "fine"})
    assert err.value.fields == {"title": "must not contain NUL characters"}


def test_optional_fields_take_their_defaults_and_unknown_fields_are_dropped():
    assert load(RegisterRequest, dict(VALID, first_name=None, is_admin=True)) == dict(
        VALID, first_name="", last_name="")
    assert load(CommentCreateRequest, {"post_id": 3, "content": "x", "parent": None,
                                       "author_id": 1}) == {
        "post_id": 3, "content": "x", "parent": None}


def test_email_is_normalised():
    assert load(RegisterRequest, dict(VALID, email=" Alice@Example.COM "))["email"] == \
        "Alice@example.com"


# --- the OpenAPI components come from the models --------------------------------------------

def test_limits_in_the_document_are_the_models():
    title = COMPONENTS["PostCreateForm"]["properties"]["title"]
    declared = [m.max_length for m in PostCreate.model_fields["title"].metadata
                if hasattr(m, "max_length")]
    assert title["maxLength"] == declared[0] == TITLE_MAX
    assert COMPONENTS["PostPage"]["properties"]["results"]["maxItems"] == MAX_LIMIT
    assert COMPONENTS["CommentCreateRequest"]["properties"]["content"]["maxLength"] == 1000
    assert COMPONENTS["RegisterRequest"]["properties"]["password"]["minLength"] == 8


@pytest.mark.parametrize("model", [PostCreateForm, PostPage, Profile, Health])
def test_each_component_is_its_model_json_schema(model):
    generated = model.model_json_schema(ref_template=REF_TEMPLATE,
                                        schema_generator=ComponentSchema)
    for name, nested in generated.pop("$defs", {}).items():
        assert COMPONENTS[name] == nested
    assert COMPONENTS[model.__name__] == generated


def test_responses_are_closed_and_requests_open():
    requests = {"RegisterRequest", "LoginRequest", "PostCreateForm", "CommentCreateRequest",
                "ProfileUpdate", "AvatarForm", "PasswordChangeRequest",
                "DeleteAccountRequest", "ReportCreate", "ReportResolve", "BanCreate", "BanLift"}
    for name, schema in COMPONENTS.items():
        if name in requests:
            assert "additionalProperties" not in schema, name
        elif name != "NotificationData":  # its keys depend on the notification's type
            assert schema["additionalProperties"] is False, name
    assert set(COMPONENTS["RegisterRequest"]["required"]) == {"username", "email", "password"}
    assert COMPONENTS["Profile"]["required"] == [
        "id", "username", "first_name", "last_name", "bio", "avatar_url", "created_at",
        "posts_count", "comments_count"]  # email only for the owner
    assert set(COMPONENTS["Me"]["required"]) == set(COMPONENTS["Profile"]["required"]) | {
        "email", "is_admin", "ban"}
    assert COMPONENTS["ProfileUpdate"].get("required", []) == []  # any of the four
    assert "default" not in COMPONENTS["Profile"]["properties"]["email"]

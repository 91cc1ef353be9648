"""Small, explicit request validation shared by the services' schemas.

The contract separates two failures: a required field missing -> BadRequest (400), and
fields present with invalid values -> ValidationFailed (422). `Schema.load` collects every
problem before raising so clients see all of them at once.
"""
from contracts.errors import BadRequest, ValidationFailed

MISSING = object()


class Field:
    def __init__(self, required=True, default=None):
        self.required = required
        self.default = default

    def clean(self, value):
        """Return the cleaned value or raise ValueError(reason)."""
        return value


class String(Field):
    def __init__(self, min_length=0, max_length=None, strip=False, pattern=None,
                 pattern_message=None, **kwargs):
        super().__init__(**kwargs)
        self.min_length = min_length
        self.max_length = max_length
        self.strip = strip
        self.pattern = pattern
        self.pattern_message = pattern_message

    def clean(self, value):
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if "\x00" in value:  # PostgreSQL text cannot hold NUL; refuse it here, not with a 500
            raise ValueError("must not contain NUL characters")
        if self.strip:
            value = value.strip()
        if len(value) < self.min_length:
            if self.min_length == 1:
                raise ValueError("must not be empty")
            raise ValueError(f"must be at least {self.min_length} characters")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"must be at most {self.max_length} characters")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise ValueError(self.pattern_message or "has an invalid format")
        return value


class Integer(Field):
    def __init__(self, min_value=None, max_value=None, **kwargs):
        super().__init__(**kwargs)
        self.min_value = min_value
        self.max_value = max_value

    def clean(self, value):
        # bool is an int subclass in Python; JSON true is not an id.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be an integer")
        if self.min_value is not None and value < self.min_value:
            raise ValueError(f"must be at least {self.min_value}")
        if self.max_value is not None and value > self.max_value:
            raise ValueError(f"must be at most {self.max_value}")
        return value


class Schema:
    fields = {}

    @classmethod
    def load(cls, data):
        if not isinstance(data, dict):
            raise BadRequest("Request body must be a JSON object", code="invalid_body")
        missing, invalid, cleaned = {}, {}, {}
        for name, field in cls.fields.items():
            value = data.get(name, MISSING)
            if value is MISSING or (value is None and field.required):
                if field.required:
                    missing[name] = "This field is required."
                else:
                    cleaned[name] = field.default
                continue
            if value is None:
                cleaned[name] = field.default
                continue
            try:
                cleaned[name] = field.clean(value)
            except ValueError as exc:
                invalid[name] = str(exc)
        if missing:
            raise BadRequest("Required fields are missing", code="missing_fields", fields=missing)
        if invalid:
            raise ValidationFailed(fields=invalid)
        return cleaned

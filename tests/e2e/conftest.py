# The e2e fixtures (stack, api, register) live in tests/stack.py and are registered by
# tests/conftest.py, so tests/security shares the same session stack; `bearer` stays
# importable from here.
from tests.stack import bearer  # noqa: F401

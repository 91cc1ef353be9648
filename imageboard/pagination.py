"""Page/limit rules of contract decision 3, shared by the gateway (which parses the query
string, gateway/pagination.py) and the services (which check what arrives over RPC)."""
from contracts.errors import BadRequest
from contracts.schemas.types import DEFAULT_LIMIT, MAX_LIMIT  # noqa: F401 (stated with the models)

# Far beyond any real list; keeps OFFSET inside PostgreSQL's bigint.
MAX_PAGE = 2**31 - 1


def is_id(value):
    """A positive bigint (bool is an int in Python, but not an id)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def check_page(page, limit):
    """Raise BadRequest (400) unless 1 <= page <= MAX_PAGE and 1 <= limit <= MAX_LIMIT."""
    for name, value, top in (("page", page, MAX_PAGE), ("limit", limit, MAX_LIMIT)):
        if not is_id(value) or value > top:
            raise BadRequest(f"{name} must be an integer from 1 to {top}",
                             code="invalid_pagination",
                             fields={name: f"must be an integer from 1 to {top}"})
    return (page - 1) * limit

"""The errors this service raises. They are declared in contracts.errors, the one catalogue
of error codes, so the gateway knows them without importing this service."""
from contracts.errors import (AlreadyResolved, CannotBanAdmin, CommentNotFound,  # noqa: F401
                              Conflict, InvalidAction, InvalidStatus, NotBanned, OwnContent,
                              PostNotFound, ReportNotFound, UserNotFound)

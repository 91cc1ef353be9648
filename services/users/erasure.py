"""Account deletion in the users store (contract v2 section 6.3): the one place that removes a
user row. Everything else the person left elsewhere is erased by the services that own it
when they consume the `user.deleted` recorded here, in the same transaction as the
deletion (docs/architecture.md, "Erasure").

The same transaction records the erasure in the access log, so every gateway process
refuses every token of the user within 1 s of the 204 (imageboard/access).
"""
import logging
import os

from contracts.events import UserDeleted
from imageboard.access.log import record_access_change
from imageboard.events.outbox import record_event
from imageboard.media import media_root
from services.users.models import AccessChange, Outbox, User

log = logging.getLogger(__name__)


def files_of(user):
    """The media files (names under MEDIA_ROOT) that belong to this user alone: the avatar
    once users.avatar exists (feat/profile), nothing before."""
    avatar = getattr(user, "avatar", None)
    return [avatar] if isinstance(avatar, str) and avatar else []


def erase_user(db, user, actor_id):
    """Delete the user row, record `user.deleted` and the erasure of every token, in one
    transaction; returns the files
    to delete once it has committed. Username and email are free at once (decision 22).
    The outbox rows of the user's earlier events (user-events keyed by their id: they carry
    the username) go too, sent or not: an unsent one would only tell the consumers about a
    person they are about to forget."""
    files = files_of(user)
    with db.atomic():
        User.delete().where(User.id == user.id).execute()
        Outbox.delete().where(Outbox.event_key == str(user.id)).execute()
        record_event(Outbox, UserDeleted(user_id=user.id), key=user.id, actor_id=actor_id)
        # The user's earlier access changes (revoked jtis, versions, rights) say nothing the
        # erasure does not: only its own row stays, the id alone, for the JWT lifetime.
        AccessChange.delete().where(AccessChange.user_id == user.id).execute()
        record_access_change(AccessChange, {"kind": "erased", "user_id": user.id})
    return files


def delete_files(config, names):
    """After the commit: a crash in between leaves a file no row names (found by listing
    MEDIA_ROOT against the tables), never a row naming a missing file."""
    root = media_root(config)
    for name in names:
        try:
            os.unlink(os.path.join(root, os.path.basename(name)))
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.error("could not delete a file of an erased user", extra={"file": name,
                                                                           "error": repr(exc)})

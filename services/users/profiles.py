"""The caller's own account view and its edits (contract v2 §6.2, decisions 19 and 20):
"me", PATCH of first_name/last_name/bio/email, avatar upload and removal. UsersStore
hands these to `Profiles`; each change and its `user.updated` event commit together
(the outbox), and an unchanged value changes nothing and sends no event."""
from peewee import IntegrityError, fn

from contracts.errors import BadRequest
from contracts.events import UserUpdated
from contracts.schemas import EDITABLE_FIELDS, ProfileUpdate, load
from imageboard.events.outbox import record_event
from imageboard.timefmt import utcnow
from services.users.avatars import delete_avatar, store_avatar
from services.users.exceptions import UserAlreadyExists, UserNotFound
from services.users.models import Outbox, User
from services.users.schemas import user_public

EMAIL_TAKEN = {"email": "A user with this email already exists."}


def me_fields(user, config):
    """What the users service knows of "me": the profile's own fields, email and the stored
    is_admin flag (the gateway adds the counts and the ban)."""
    return dict(user_public(user, config), email=user.email, is_admin=user.is_admin)


class Profiles:
    def __init__(self, store):
        self.store = store
        self.db = store.db
        self.config = store.config

    def me(self, user_id):
        return me_fields(self.store.get(user_id), self.config)

    def _locked(self, user_id):
        self.store.get(user_id)  # an id check and 404 before the lock
        user = User.select().where(User.id == user_id).for_update().get_or_none()
        if user is None:
            raise UserNotFound()
        return user

    def _record(self, user, fields):
        user.updated_at = utcnow()
        user.save(only=[User.updated_at] + [getattr(User, name) for name in fields])
        record_event(Outbox, UserUpdated(user_id=user.id, username=user.username,
                                         fields=list(fields), avatar=user.avatar),
                     key=user.id, actor_id=user.id)

    def update(self, user_id, payload):
        data = load(ProfileUpdate, payload)
        wanted = {name: data[name] for name in EDITABLE_FIELDS if data.get(name) is not None}
        if not wanted:
            raise BadRequest("Send at least one of " + ", ".join(EDITABLE_FIELDS),
                             code="missing_fields")
        try:
            with self.db.atomic():
                user = self._locked(user_id)
                changed = [name for name, value in wanted.items() if getattr(user, name) != value]
                if "email" in changed and self._email_taken(wanted["email"], user.id):
                    raise UserAlreadyExists(fields=EMAIL_TAKEN)
                for name in changed:
                    setattr(user, name, wanted[name])
                if changed:
                    self._record(user, changed)
        except IntegrityError:
            # Lost a race with another account taking the same email meanwhile.
            raise UserAlreadyExists(fields=EMAIL_TAKEN)
        return me_fields(user, self.config)

    @staticmethod
    def _email_taken(email, own_id):
        return User.select().where(fn.lower(User.email) == email.lower(),
                                   User.id != own_id).exists()

    def set_avatar(self, user_id, upload_name):
        # Pillow runs before the transaction: no connection or row lock is held meanwhile.
        name = store_avatar(self.config, upload_name)
        try:
            with self.db.atomic():
                user = self._locked(user_id)
                old, user.avatar = user.avatar, name
                self._record(user, ["avatar"])
        except BaseException:
            delete_avatar(self.config, name)
            raise
        delete_avatar(self.config, old)  # its own name: nothing else uses it
        return me_fields(user, self.config)

    def remove_avatar(self, user_id):
        with self.db.atomic():
            user = self._locked(user_id)
            old, user.avatar = user.avatar, None
            if old is not None:
                self._record(user, ["avatar"])
        delete_avatar(self.config, old)

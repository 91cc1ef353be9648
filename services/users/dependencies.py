"""The users service's domain wrapper, handed to each worker by the Database provider."""
from peewee import IntegrityError, fn

from contracts.schemas import DeleteAccountRequest, LoginRequest, RegisterRequest, load
from contracts.events import UserLoggedIn, UserRegistered
from imageboard.events.outbox import record_event
from imageboard.service_kit import Database
from imageboard.timefmt import iso, utcnow
from imageboard.tokens import issue_token
from services.users import erasure
from services.users.exceptions import (InvalidCredentials, InvalidPassword,
                                       UserAlreadyExists, UserNotFound)
from services.users.models import Outbox, User, database
from services.users.passwords import hash_password, verify_password
from services.users.schemas import user_public


class UsersStore:
    def __init__(self, db, config):
        self.db = db
        self.config = config

    def _token(self, user):
        return issue_token(self.config, user.id, user.username, user.is_admin)

    def _find_by_username(self, username):
        return User.get_or_none(fn.lower(User.username) == username.lower())

    def _conflicts(self, username, email):
        taken = {}
        if self._find_by_username(username) is not None:
            taken["username"] = "A user with this username already exists."
        if User.get_or_none(fn.lower(User.email) == email.lower()) is not None:
            taken["email"] = "A user with this email already exists."
        return taken

    def register(self, payload):
        data = load(RegisterRequest, payload)
        taken = self._conflicts(data["username"], data["email"])
        if taken:
            raise UserAlreadyExists(fields=taken)
        password_hash = hash_password(data["password"])
        try:
            with self.db.atomic():
                user = User.create(
                    username=data["username"], email=data["email"],
                    password_hash=password_hash,
                    first_name=data["first_name"], last_name=data["last_name"],
                )
                record_event(Outbox, UserRegistered(user_id=user.id, username=user.username),
                             key=user.id, actor_id=user.id)
        except IntegrityError:
            # Lost a race with a concurrent registration of the same name or email.
            raise UserAlreadyExists(fields=self._conflicts(data["username"], data["email"]) or None)
        return {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "token": self._token(user),
            "created_at": iso(user.created_at),
        }

    def login(self, payload):
        data = load(LoginRequest, payload)
        user = self._find_by_username(data["username"])
        if not verify_password(user.password_hash if user else None, data["password"]):
            raise InvalidCredentials()
        with self.db.atomic():
            record_event(Outbox, UserLoggedIn(user_id=user.id, username=user.username),
                         key=user.id, actor_id=user.id)
        return {"token": self._token(user), "user_id": user.id, "username": user.username}

    def get(self, user_id):
        user = User.get_or_none(User.id == user_id) if _is_id(user_id) else None
        if user is None:
            raise UserNotFound()
        return user

    def profile(self, user_id):
        user = self.get(user_id)
        return dict(user_public(user), email=user.email)

    def find(self, username):
        user = self._find_by_username(username)
        if user is None:
            raise UserNotFound(f"No user named {username!r}")
        return dict(user_public(user), email=user.email, is_admin=user.is_admin)

    def set_admin(self, username, is_admin):
        user = self._find_by_username(username)
        if user is None:
            raise UserNotFound(f"No user named {username!r}")
        user.is_admin = bool(is_admin)
        user.updated_at = utcnow()
        user.save(only=[User.is_admin, User.updated_at])
        return {"id": user.id, "username": user.username, "is_admin": user.is_admin}

    def delete_me(self, user_id, payload):
        """DELETE /api/users/me/: the caller's password again, then erasure.py."""
        password = load(DeleteAccountRequest, payload)["password"]
        user = self.get(user_id)
        if not verify_password(user.password_hash, password):
            raise InvalidPassword(fields={"password": "is not correct"})
        erasure.delete_files(self.config, erasure.erase_user(self.db, user, actor_id=user.id))

    def delete_user(self, username):
        """Operators (`imageboard delete-user`, nameko shell): no password asked."""
        user = self._find_by_username(username)
        if user is None:
            raise UserNotFound(f"No user named {username!r}")
        erasure.delete_files(self.config, erasure.erase_user(self.db, user, actor_id=None))
        return {"id": user.id, "username": user.username, "deleted": True}


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


class UsersDatabase(Database):
    def __init__(self):
        super().__init__(database, UsersStore, service_name="users")

"""The users service's domain wrapper, handed to each worker by the Database provider."""
from peewee import IntegrityError, fn

from contracts.schemas import (DeleteAccountRequest, LoginRequest, PasswordChangeRequest,
                               RegisterRequest, load)
from contracts.events import UserLoggedIn, UserRegistered
from imageboard.access.log import record_access_change
from imageboard.events.outbox import record_event
from imageboard.service_kit import Database
from imageboard.timefmt import iso, utcnow
from imageboard.tokens import issue_token
from services.users import erasure
from services.users.exceptions import (InvalidCredentials, InvalidPassword,
                                       UserAlreadyExists, UserNotFound)
from services.users.models import AccessChange, Outbox, User, database
from services.users.passwords import hash_password, verify_password
from services.users.profiles import Profiles
from services.users.schemas import user_public


class UsersStore:
    def __init__(self, db, config):
        self.db = db
        self.config = config
        self.profiles = Profiles(self)  # me, profile edits, avatars (v2 §6.2)

    def _token(self, user):
        return issue_token(self.config, user.id, user.username, user.is_admin, user.token_version)

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
        return dict(user_public(user, self.config), email=user.email)

    def find(self, username):
        user = self._find_by_username(username)
        if user is None:
            raise UserNotFound(f"No user named {username!r}")
        return dict(user_public(user, self.config), email=user.email, is_admin=user.is_admin)

    def admin_status(self, user_id):
        user = self.get(user_id)
        return {"id": user.id, "username": user.username, "is_admin": user.is_admin}

    def set_admin(self, username, is_admin):
        """Rights follow the stored flag on every gateway within 1 s (the access feed)."""
        user = self._find_by_username(username)
        if user is None:
            raise UserNotFound(f"No user named {username!r}")
        with self.db.atomic():
            user.is_admin = bool(is_admin)
            user.updated_at = utcnow()
            user.save(only=[User.is_admin, User.updated_at])
            record_access_change(AccessChange, {"kind": "admin", "user_id": user.id,
                                                "is_admin": user.is_admin})
        return {"id": user.id, "username": user.username, "is_admin": user.is_admin}

    # -- sessions (contract v2 §3.3, §6.1) ----------------------------------------------
    def logout(self, user_id, jti, exp):
        """Revokes one token (the presented one)."""
        with self.db.atomic():
            record_access_change(AccessChange, {"kind": "revoke_jti", "user_id": user_id,
                                                "jti": jti, "exp": int(exp)})

    def _bump_token_version(self, user_id, except_jti=None, password_hash=None):
        """token_version += 1 (every token issued before is revoked, `except_jti` excepted);
        call inside a transaction."""
        assignments = {User.token_version: User.token_version + 1, User.updated_at: utcnow()}
        if password_hash is not None:
            assignments[User.password_hash] = password_hash
        row = (User.update(assignments).where(User.id == user_id)
               .returning(User.token_version).execute())
        versions = [r.token_version for r in row]
        if not versions:
            raise UserNotFound()
        record_access_change(AccessChange, {"kind": "min_version", "user_id": user_id,
                                            "min_version": versions[0], "except_jti": except_jti})

    def logout_all(self, user_id):
        """Revokes every token of the user, the presented one too."""
        with self.db.atomic():
            self._bump_token_version(self.get(user_id).id)

    def change_password(self, user_id, jti, payload):
        """Contract v2 §6.1: wrong current 422 invalid_password; every other token revoked."""
        data = load(PasswordChangeRequest, payload)
        user = self.get(user_id)
        if not verify_password(user.password_hash, data["current_password"]):
            raise InvalidPassword(fields={"current_password": "The password is not correct."})
        password_hash = hash_password(data["new_password"])
        with self.db.atomic():
            self._bump_token_version(user.id, except_jti=jti, password_hash=password_hash)

    def revoke_sessions(self, username):
        """Operators: every token of the user is refused within 1 s."""
        user = self._find_by_username(username)
        if user is None:
            raise UserNotFound(f"No user named {username!r}")
        with self.db.atomic():
            self._bump_token_version(user.id)
        return {"id": user.id, "username": user.username, "sessions_revoked": True}

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


def current_admins():
    """The users service's part of an access snapshot that the log may no longer hold."""
    return [{"kind": "admin", "user_id": user_id, "is_admin": True}
            for (user_id,) in User.select(User.id).where(User.is_admin).tuples()]


class UsersDatabase(Database):
    def __init__(self):
        super().__init__(database, UsersStore, service_name="users")

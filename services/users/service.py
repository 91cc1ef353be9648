"""Users service: registration, login, profiles (and the caller's own: me, avatar) and admin
flags, over RPC."""
from imageboard.access import feed as access_feed  # by module, as service_kit: see above
from imageboard.events.relay import OutboxRelay
from imageboard import service_kit  # bases by module: `nameko run` runs every class imported here
from imageboard.service_kit import RequestContext, rpc
from services.users.dependencies import UsersDatabase, current_admins
from services.users.models import AccessChange


class UsersService(service_kit.OutboxService, access_feed.AccessSource):
    name = "users"
    # /metrics is served on METRICS_PORT_BASE + this (compose sets METRICS_PORT instead).
    metrics_port_offset = 1

    users = UsersDatabase()
    context = RequestContext()
    relay = OutboxRelay()  # publishes user-events from the outbox table
    # Token versions, revoked tokens, admins, erasures to every gateway (imageboard/access).
    access = access_feed.AccessFeed(AccessChange, snapshot=current_admins)

    @rpc(sensitive_arguments=("payload.password",))
    def register(self, payload):
        return self.users.register(payload)

    @rpc(sensitive_arguments=("payload.password",))
    def login(self, payload):
        return self.users.login(payload)

    @rpc
    def get_profile(self, user_id):
        """Public profile plus email; the gateway drops email unless the caller owns it."""
        return self.users.profile(user_id)

    @rpc
    def find_user(self, username):
        """Operators: n.rpc.users.find_user("alice")."""
        return self.users.find(username)

    @rpc
    def admin_status(self, user_id):
        """For the moderation service: {"id", "username", "is_admin"} (the stored flag), or
        UserNotFound (also for an erased account)."""
        return self.users.admin_status(user_id)

    @rpc
    def set_admin(self, username, is_admin=True):
        """Operators: n.rpc.users.set_admin("alice") / set_admin("alice", False)."""
        return self.users.set_admin(username, is_admin)

    # v2 §6.2 (services/users/profiles.py): the caller's own account, by the token's user id.
    @rpc
    def get_me(self, user_id):
        return self.users.profiles.me(user_id)

    @rpc
    def update_me(self, user_id, payload):
        return self.users.profiles.update(user_id, payload)

    @rpc
    def set_avatar(self, user_id, upload_name):
        """upload_name: the gateway's file in UPLOAD_DIR (taken and removed here)."""
        return self.users.profiles.set_avatar(user_id, upload_name)

    @rpc
    def remove_avatar(self, user_id):
        self.users.profiles.remove_avatar(user_id)

    @rpc
    def logout(self, user_id, jti, exp):
        return self.users.logout(user_id, jti, exp)

    @rpc
    def logout_all(self, user_id):
        return self.users.logout_all(user_id)

    @rpc(sensitive_arguments=("payload.current_password", "payload.new_password"))
    def change_password(self, user_id, jti, payload):
        return self.users.change_password(user_id, jti, payload)

    @rpc
    def revoke_sessions(self, username):
        """Operators: n.rpc.users.revoke_sessions("alice") -> every token refused within 1 s."""
        return self.users.revoke_sessions(username)

    @rpc(sensitive_arguments=("payload.password",))
    def delete_me(self, user_id, payload):
        """DELETE /api/users/me/ (contract v2 section 6.3)."""
        return self.users.delete_me(user_id, payload)

    @rpc
    def delete_user(self, username):
        """Operators: n.rpc.users.delete_user("alice") erases the account, no password."""
        return self.users.delete_user(username)

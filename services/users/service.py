"""Users service: registration, login, profiles and admin flags, over RPC."""
from imageboard.events.relay import OutboxRelay
from imageboard import service_kit  # bases by module: `nameko run` runs every class imported here
from imageboard.service_kit import RequestContext, rpc
from services.users.dependencies import UsersDatabase


class UsersService(service_kit.OutboxService):
    name = "users"
    # /metrics is served on METRICS_PORT_BASE + this (compose sets METRICS_PORT instead).
    metrics_port_offset = 1

    users = UsersDatabase()
    context = RequestContext()
    relay = OutboxRelay()  # publishes user-events from the outbox table

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
    def set_admin(self, username, is_admin=True):
        """Operators: n.rpc.users.set_admin("alice") / set_admin("alice", False)."""
        return self.users.set_admin(username, is_admin)

    @rpc(sensitive_arguments=("payload.password",))
    def delete_me(self, user_id, payload):
        """DELETE /api/users/me/ (contract v2 section 6.3)."""
        return self.users.delete_me(user_id, payload)

    @rpc
    def delete_user(self, username):
        """Operators: n.rpc.users.delete_user("alice") erases the account, no password."""
        return self.users.delete_user(username)

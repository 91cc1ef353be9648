"""A fake RPC client for the gateway unit tests (the fixtures around it are in conftest)."""
from gateway.rpc import reading, writing
from imageboard.access.state import AccessState

# ACCESS_SOURCES []: no feed thread; tests hand create_app an AccessState (access_state()).
CONFIG = {"JWT_SECRET": "k" * 32, "JWT_LIFETIME_SECONDS": 60, "SERVICES": ["users", "posts", "comments"],
          "ACCESS_SOURCES": []}


class FakeRpc:
    """Answers from `answers[(service, method)]`: a value, a callable of the call's
    arguments, or an exception to raise; records every call (and in `writes` the
    (service, method) of those sent with write priority)."""

    def __init__(self):
        self.calls, self.answers, self.writes = [], {}, set()

    def read(self, service, method, *args, **kwargs):
        return self.many([reading(service, method, *args, **kwargs)])[0]

    def write(self, service, method, *args, **kwargs):
        return self.many([writing(service, method, *args, **kwargs)])[0]

    def many(self, calls):
        results = []
        for call in calls:
            service, method, args = call.service, call.method, call.args
            self.calls.append((service, method, args))
            if call.write:
                self.writes.add((service, method))
            answer = self.answers[(service, method)]
            if isinstance(answer, Exception):
                raise answer
            results.append(answer(*args) if callable(answer) else answer)
        return results


class FakeClock:
    """time.time() that moves only when told to (epoch seconds)."""

    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class MemoryCounter:
    """gateway.ratelimit.RedisCounter in memory: INCR, and an expiry set on the first one
    (EXPIRE NX), by the given clock."""

    def __init__(self, clock):
        self.clock = clock
        self.values = {}  # key -> (value, expires at)

    def incr(self, key, ttl):
        now = self.clock()
        value, expires = self.values.get(key, (0, None))
        if expires is not None and now >= expires:
            value, expires = 0, None
        self.values[key] = (value + 1, expires if expires is not None else now + ttl)
        return value + 1
def access_state(admins=()):
    """An AccessState as the feed would leave it: the users source heard (and never going
    stale in a test), `admins` holding admin rights."""
    state = AccessState(["users"], stale_after=10**9)
    state.reset("users", [{"kind": "admin", "user_id": uid, "is_admin": True} for uid in admins], 0)
    return state


def grant_admin(state, user_id):
    """What set_admin's change does to every gateway: rights come from the state, not the
    token's is_admin claim."""
    state.apply("users", {"kind": "admin", "user_id": user_id, "is_admin": True})

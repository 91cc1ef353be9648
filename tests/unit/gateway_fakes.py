"""A fake RPC client for the gateway unit tests (the fixtures around it are in conftest)."""

CONFIG = {"JWT_SECRET": "k" * 32, "JWT_LIFETIME_SECONDS": 60, "SERVICES": ["users", "posts", "comments"]}


class FakeRpc:
    """Answers from `answers[(service, method)]`: a value, a callable of the call's
    arguments, or an exception to raise; records every call."""

    def __init__(self):
        self.calls, self.answers = [], {}

    def call(self, service, method, *args, **kwargs):
        return self.call_many([(service, method, args, kwargs)])[0]

    def call_many(self, calls):
        results = []
        for service, method, args, kwargs in calls:
            self.calls.append((service, method, args))
            answer = self.answers[(service, method)]
            if isinstance(answer, Exception):
                raise answer
            results.append(answer(*args) if callable(answer) else answer)
        return results

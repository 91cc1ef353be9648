import falcon


class HealthResource:
    """Liveness: the gateway process answers."""

    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class ReadyResource:
    """Readiness: RabbitMQ is reachable, every domain service answers a ping, and the
    access feed is current (every source heard within ACCESS_FEED_STALE_AFTER)."""

    def __init__(self, rpc, services, access=None):
        self.rpc = rpc
        self.services = list(services)
        self.access = access

    def on_get(self, req, resp):
        checks = {}
        for service in self.services:
            try:
                self.rpc.read(service, "ping")
                checks[service] = "ok"
            except Exception as exc:  # report every failing part, not just the first
                checks[service] = getattr(exc, "code", type(exc).__name__)
        if self.access is not None and self.access.sources():
            stale = self.access.stale_sources()
            checks["access_feed"] = "ok" if not stale else "stale: " + ", ".join(stale)
        ready = all(v == "ok" for v in checks.values())
        resp.status = falcon.HTTP_200 if ready else falcon.HTTP_503
        resp.media = {"status": "ready" if ready else "not_ready", "checks": checks}

import falcon


class HealthResource:
    """Liveness: the gateway process answers."""

    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class ReadyResource:
    """Readiness: RabbitMQ is reachable and every domain service answers a ping."""

    def __init__(self, rpc, services):
        self.rpc = rpc
        self.services = list(services)

    def on_get(self, req, resp):
        checks = {}
        for service in self.services:
            try:
                self.rpc.read(service, "ping")
                checks[service] = "ok"
            except Exception as exc:  # report every failing part, not just the first
                checks[service] = getattr(exc, "code", type(exc).__name__)
        ready = all(v == "ok" for v in checks.values())
        resp.status = falcon.HTTP_200 if ready else falcon.HTTP_503
        resp.media = {"status": "ready" if ready else "not_ready", "checks": checks}

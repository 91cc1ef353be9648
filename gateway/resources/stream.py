"""POST /api/stream/ticket/ (contract v2 section 7): a single-use, 30 s ticket for the
stream process, since EventSource cannot send the Authorization header. The ticket holds
the token's claims in Redis (imageboard/stream_tickets.py); the stream process takes it
once and checks those claims against its own access state, so a token revoked in between
gives token_revoked there. Banned users get tickets too (reading is allowed)."""
import falcon

from contracts.errors import StreamUnavailable
from gateway.auth import require_user
from imageboard.stream_tickets import TicketStoreUnavailable, Tickets
from imageboard.tokens import verify_token


class StreamTicketResource:
    def __init__(self, config, tickets=None):
        self.secret = config["JWT_SECRET"]
        self.config = config
        self._tickets = tickets

    @property
    def tickets(self):
        if self._tickets is None:
            self._tickets = Tickets(self.config)
        return self._tickets

    @falcon.before(require_user)
    def on_post(self, req, resp):
        # AuthMiddleware verified the header already; its claims (ver included) go in the ticket.
        token = req.get_header("Authorization").partition(" ")[2].strip()
        claims = verify_token(self.secret, token)
        try:
            resp.media = self.tickets.issue(claims)
        except TicketStoreUnavailable:
            raise StreamUnavailable("Stream tickets are not available right now")
        resp.set_header("Cache-Control", "no-store")

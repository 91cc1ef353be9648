"""GET /api/users/me/export/ (contract v2 section 6.4): one JSON document with everything
the caller made and received, every source asked at once (rpc.many)."""
import falcon

from gateway.auth import require_user
from gateway.me import MeReader
from gateway.resources.posts import absolute_image_url
from gateway.rpc import reading
from imageboard.timefmt import iso, utcnow

# (field of the document, service, read RPC taking the user id): each an oldest-first
# list. A source whose service is not deployed gives [].
SOURCES = (
    ("posts", "posts", "posts_of_author"),
    ("comments", "comments", "comments_of_author"),
    ("likes", "posts", "likes_of_user"),
    ("notifications", "notifications", "notifications_of_user"),
    ("reports", "moderation", "reports_of_user"),  # the moderator hidden (decision 25)
)
FIELDS = ("posts", "comments", "likes", "notifications", "reports")


class ExportResource:
    def __init__(self, rpc, deployed_services):
        self.rpc = rpc
        self.me = MeReader(rpc, deployed_services)
        self.sources = [source for source in SOURCES if source[1] in deployed_services]

    @falcon.before(require_user)
    def on_get(self, req, resp):
        user_id = req.context.user.id
        exported_at = iso(utcnow())
        me_calls = self.me.calls(user_id)
        replies = self.rpc.many(me_calls + [reading(service, method, user_id)
                                            for _, service, method in self.sources])
        document = {"exported_at": exported_at,
                    "profile": self.me.compose(req, replies[:len(me_calls)]),
                    **{field: [] for field in FIELDS}}
        for (field, _, _), items in zip(self.sources, replies[len(me_calls):]):
            document[field] = items
        for post in document["posts"]:
            absolute_image_url(req, post)
        resp.media = document
        resp.set_header("Content-Disposition",
                        f'attachment; filename="imageboard-export-{user_id}.json"')

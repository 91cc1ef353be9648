"""The posts service's domain wrapper, handed to each worker by the Database provider."""
import logging
import os

from peewee import fn

from contracts.errors import AccountErased, BadRequest
from contracts.schemas import MAX_LIMIT, PostCreate, load
from contracts.events import (PostCreated, PostDeleted, PostLiked, PostUnliked, UserDeleted,
                              UserUpdated)
from imageboard import avatars
from imageboard.events.dead_letters import record_dead_letter
from imageboard.events.outbox import record_event
from imageboard.pagination import check_page, is_id
from imageboard.service_kit import Database
from imageboard.timefmt import utcnow
from services.posts import erasure, images, lifecycle
from services.posts.exceptions import InvalidOrdering, NotPostAuthor, PostNotFound
from services.posts.models import Outbox, Post, PostsTotal, database
from services.posts.schemas import (DEFAULT_ORDERING, FEED_COLUMNS, ORDERINGS, REMOVAL_COLUMNS,
                                    feed_row, post_created, post_detail)

log = logging.getLogger(__name__)


# The feed's rows of some posts by id (removed ones left out, as lists leave them out).
FEED_ROWS_SQL = f"SELECT {', '.join(FEED_COLUMNS)} FROM posts WHERE id = ANY(%s) AND NOT removed"


def _feed_sql(field, direction):
    order = [f"{field} {direction.upper()}"]
    if field != "created_at":
        order.append("created_at DESC")
    order.append("id DESC")  # ties: newest first (decision 3)
    return (f"SELECT {', '.join(FEED_COLUMNS)}, (SELECT total FROM posts_total) FROM posts "
            f"WHERE NOT removed ORDER BY {', '.join(order)} LIMIT %s OFFSET %s")


# Only these fixed statements run: the ordering is a key, never SQL from the request.
FEED_SQL = {name: _feed_sql(field, direction) for name, (field, direction) in ORDERINGS.items()}

# A post and its likes (oldest first) in one round trip, likes aggregated to JSON.
DETAIL_SQL = (
    f"SELECT {', '.join(FEED_COLUMNS)}, "
    "(SELECT coalesce(json_agg(json_build_object('user_id', user_id, 'username', username) "
    "                          ORDER BY created_at), '[]'::json) "
    f" FROM likes WHERE post_id = posts.id), {', '.join(REMOVAL_COLUMNS)} "
    "FROM posts WHERE id = %s"
)


# One toggle, run with the post row already locked: remove the caller's like, or add it if
# there was none, and move likes_count by one; returns (liked, likes_count). Data-modifying
# WITH statements all run, once, whether or not the outer statement reads them.
TOGGLE_SQL = (
    "WITH removed AS ("
    " DELETE FROM likes WHERE post_id = %(post_id)s AND user_id = %(user_id)s RETURNING 1"
    "), added AS ("
    " INSERT INTO likes (post_id, user_id, username, created_at)"
    " SELECT %(post_id)s, %(user_id)s, %(username)s, %(now)s WHERE NOT EXISTS (SELECT 1 FROM removed)"
    " RETURNING 1"
    ") "
    "UPDATE posts SET likes_count = likes_count + (SELECT count(*) FROM added) - (SELECT count(*) FROM removed) "
    "WHERE id = %(post_id)s RETURNING (SELECT count(*) FROM added) = 1, likes_count"
)


class PostsStore:
    def __init__(self, db, config):
        self.db = db
        self.config = config

    def _get(self, post_id, lock=False, include_removed=False):
        """A removed post is missing (404) unless include_removed (contract v2 section 4.3)."""
        if not is_id(post_id):
            raise PostNotFound()
        query = Post.select().where(Post.id == post_id)
        post = (query.for_update() if lock else query).get_or_none()
        if post is None or (post.removed and not include_removed):
            raise PostNotFound()
        return post

    def create(self, payload, author):
        upload = payload.get("image_upload") if isinstance(payload, dict) else None
        try:
            data = load(PostCreate, payload)
        except Exception:
            _discard_upload(self.config, upload)
            raise
        try:
            avatars.refuse_erased(self.db, author["id"])
        except AccountErased:
            _discard_upload(self.config, upload)
            raise
        # Pillow work happens before the transaction: no connection is held meanwhile.
        image = images.store_upload(self.config, upload) if upload else None
        with self.db.atomic():
            now = utcnow()
            avatar, _ = avatars.current(self.db, author["id"])
            post = Post.create(title=data["title"], content=data["content"], image=image,
                               author_id=author["id"], author_username=author["username"],
                               author_avatar=avatar, created_at=now, updated_at=now)
            record_event(Outbox, PostCreated(
                post_id=post.id, author_id=author["id"],
                author_username=author["username"], title=post.title,
                has_image=image is not None,
            ), key=post.id, actor_id=author["id"])
        return post_created(post, self.config)

    def list(self, page=1, limit=20, ordering=None):
        ordering = ordering or DEFAULT_ORDERING
        if ordering not in ORDERINGS:
            raise InvalidOrdering(f"Unknown ordering {ordering!r}; use one of {', '.join(ORDERINGS)}",
                                  fields={"ordering": "must be one of " + ", ".join(ORDERINGS)})
        check_page(page, limit)
        # The page and the trigger-kept total in one round trip (one snapshot), from SQL
        # built once per ordering: the feed is the hottest read, and building the query
        # and model instances with peewee cost several times the query itself.
        cursor = self.db.execute_sql(FEED_SQL[ordering], (limit, (page - 1) * limit))
        rows = cursor.fetchall()
        if not rows:  # past the last page: the count alone
            return {"count": PostsTotal.select(PostsTotal.total).scalar() or 0, "results": []}
        return {"count": rows[0][-1], "results": [feed_row(row, self.config) for row in rows]}

    def feed_rows(self, post_ids):
        """{id: the post as the feed lists it} of those of `post_ids` that exist and are not
        removed: one query for a batch (the stream process's post_updated/restored data)."""
        ids = sorted({i for i in post_ids if is_id(i)})[:MAX_LIMIT]
        if not ids:
            return {}
        rows = self.db.execute_sql(FEED_ROWS_SQL, (ids,)).fetchall()
        return {row[0]: feed_row(row, self.config) for row in rows}

    def get(self, post_id, admin=False):
        """The post detail; a removed post is 404 except to admins, who see its reason."""
        if not is_id(post_id):
            raise PostNotFound()
        row = self.db.execute_sql(DETAIL_SQL, (post_id,)).fetchone()
        if row is None or (row[len(FEED_COLUMNS) + 1] and not admin):
            raise PostNotFound()
        return post_detail(row, self.config, admin=admin)

    def update(self, post_id, payload, actor):
        post, _ = lifecycle.update(self.db, post_id, payload, actor)
        return post, self.get(post.id, admin=bool(actor.get("is_admin")))

    def remove(self, post_id, reason, moderator_id, report_id=None):
        post = lifecycle.remove(self.db, post_id, reason, moderator_id, report_id)
        return post, self.get(post.id, admin=True)

    def restore(self, post_id, reason, moderator_id):
        post = lifecycle.restore(self.db, post_id, reason, moderator_id)
        return post, self.get(post.id, admin=True)

    def toggle_like(self, post_id, user):
        """Decision 4: like if not liked, unlike otherwise. The post row is locked first, so
        the like row and likes_count change together even for concurrent toggles; the toggle
        is then one statement with a snapshot taken after the lock (a single statement that
        also locked would decide on a snapshot older than a concurrent toggle's commit)."""
        with self.db.atomic():
            post = self._get(post_id, lock=True)
            avatars.refuse_erased(self.db, user["id"])
            liked, likes_count = self.db.execute_sql(TOGGLE_SQL, {
                "post_id": post.id, "user_id": user["id"], "username": user["username"],
                "now": utcnow()}).fetchone()
            # Made under the lock: toggles of a post get their times in commit order.
            record_event(Outbox, (PostLiked if liked else PostUnliked)(
                post_id=post.id, post_author_id=post.author_id, post_title=post.title,
                user_id=user["id"], username=user["username"], likes_count=likes_count,
            ), key=post.id, actor_id=user["id"])
        return {"post_id": post.id, "liked": liked, "likes_count": likes_count,
                "message": "Post liked" if liked else "Like removed"}

    def delete(self, post_id, actor):
        """Decision 6: the author or an admin; likes go by ON DELETE CASCADE, comments by
        the comments service (see PostsService.delete_post)."""
        with self.db.atomic():
            # A removed post is 404 for everyone but admins (section 4.3).
            post = self._get(post_id, lock=True, include_removed=bool(actor.get("is_admin")))
            if post.author_id != actor["id"] and not actor.get("is_admin"):
                raise NotPostAuthor()
            Post.delete().where(Post.id == post.id).execute()
            record_event(Outbox, PostDeleted(
                post_id=post.id, author_id=post.author_id, title=post.title,
                deleted_by=actor["id"],
            ), key=post.id, actor_id=actor["id"])
        if post.image and not Post.select().where(Post.image == post.image).exists():
            # Content-addressed files may be shared by posts of the same image.
            images.delete_images(self.config, post.image)
        return {"post_id": post.id}

    def report_target(self, post_id):
        post = self._get(post_id)
        if post.removed:  # missing for reporters as for every non-admin (section 4.3)
            raise PostNotFound()
        return {"post_id": post.id, "author_id": post.author_id,
                "author_username": post.author_username, "title": post.title,
                "content": post.content}

    def comment_target(self, post_id):
        """For the comments service: the post exists, and what its events need."""
        post = self._get(post_id)
        return {"post_id": post.id, "author_id": post.author_id, "title": post.title}

    def sync_comments_count(self, post_id, count, version=None):
        """comments_count := the comments service's live count of the post, taken after its
        write committed, if `version` (a number the comments database hands out under a
        per-post lock) is newer than the one applied: late, repeated or reordered syncs
        converge on the exact count, deletions included. Without a version (a call queued
        by a comments service of the previous release): max(current, count), as before."""
        if not is_id(post_id) or not isinstance(count, int) or count < 0:
            raise BadRequest("Invalid comment count")
        if version is None:
            query = (Post.update(comments_count=fn.GREATEST(Post.comments_count, count))
                     .where(Post.id == post_id))
        elif not isinstance(version, int) or version < 1:
            raise BadRequest("Invalid comment count version")
        else:
            query = (Post.update(comments_count=count, comments_count_version=version)
                     .where((Post.id == post_id) & (Post.comments_count_version < version)))
        rows = list(query.returning(Post.comments_count).execute())
        if rows:
            return rows[0].comments_count
        # PostNotFound, or a newer count is applied already (removed posts keep counting).
        post = self._get(post_id, include_removed=True)
        return post.comments_count

    def exists(self, post_id):
        self._get(post_id)
        return True

    def count_by_author(self, user_id):
        if not is_id(user_id):
            return 0
        return Post.select().where((Post.author_id == user_id)
                                   & (Post.removed == False)).count()  # noqa: E712

    def handle_user_event(self, event):
        if isinstance(event.payload, UserDeleted):
            return erasure.erase_user(self.db, self.config, event.payload.user_id)
        if isinstance(event.payload, UserUpdated):
            return avatars.apply_update(self.db, "posts", event.payload.user_id,
                                        event.payload.avatar)
        return None

    def record_dead_letter(self, letter):
        with self.db.atomic():
            record_dead_letter(self.db, letter)


def _discard_upload(config, upload):
    if upload:
        try:
            os.unlink(images.upload_path(config, upload))
        except (FileNotFoundError, images.InvalidImage):
            pass


class PostsDatabase(Database):
    def __init__(self):
        super().__init__(database, PostsStore, service_name="posts")

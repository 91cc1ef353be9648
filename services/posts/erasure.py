"""The posts service's part of an account's erasure (contract v2 section 6.3), run when it
consumes `user.deleted`: idempotent, so a redelivered or replayed event changes nothing.

- the user's posts go as by DELETE /api/posts/{id}/: a `post.deleted` each (the comments
  service deletes their comments when it consumes it), their files unless another post
  uses the same file;
- the user's likes are withdrawn, likes_count moved with them, and no `post.unliked`
  (decision 24: it would carry the username again and re-create analytics rows);
- published outbox rows naming the user go (imageboard/erasure.py).
"""
from contracts.events import PostDeleted
from imageboard import avatars
from imageboard.erasure import purge_outbox_when_published
from imageboard.events.outbox import record_event
from services.posts import images
from services.posts.models import Outbox, Post

# Lock the posts the user liked (in id order, as toggles lock one post at a time: no
# deadlock), then take the likes back and move the counts in the same statement.
WITHDRAW_LIKES_SQL = (
    "WITH locked AS ("
    " SELECT id FROM posts WHERE id IN (SELECT post_id FROM likes WHERE user_id = %(uid)s)"
    " ORDER BY id FOR UPDATE"
    "), withdrawn AS ("
    " DELETE FROM likes WHERE user_id = %(uid)s AND post_id IN (SELECT id FROM locked)"
    " RETURNING post_id"
    ") "
    "UPDATE posts SET likes_count = likes_count - 1 WHERE id IN (SELECT post_id FROM withdrawn) "
    "RETURNING id")


def erase_user(db, config, user_id):
    """Returns {"posts": n deleted, "likes": n withdrawn}."""
    with db.atomic():
        posts = list(Post.select().where(Post.author_id == user_id).order_by(Post.id).for_update())
        for post in posts:
            Post.delete().where(Post.id == post.id).execute()
            record_event(Outbox, PostDeleted(post_id=post.id, author_id=post.author_id,
                                             title=post.title, deleted_by=user_id),
                         key=post.id, actor_id=user_id)
        withdrawn = db.execute_sql(WITHDRAW_LIKES_SQL, {"uid": user_id}).fetchall()
        avatars.mark_erased(db, user_id)
    for image in {post.image for post in posts if post.image}:
        if not Post.select().where(Post.image == image).exists():
            images.delete_images(config, image)
    purge_outbox_when_published(db, user_id)
    return {"posts": len(posts), "likes": len(withdrawn)}

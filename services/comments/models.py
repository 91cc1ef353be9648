from peewee import (BigAutoField, BigIntegerField, BooleanField, CharField, DatabaseProxy,
                    ForeignKeyField, Model)
from playhouse.postgres_ext import DateTimeTZField

from imageboard.events.outbox import outbox_model
from imageboard.timefmt import utcnow

database = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database


class Comment(BaseModel):
    id = BigAutoField()
    post_id = BigIntegerField()
    parent = ForeignKeyField("self", column_name="parent_id", null=True, on_delete="CASCADE",
                             lazy_load=False)
    author_id = BigIntegerField(null=True)  # null: a placeholder (placeholders.py)
    author_username = CharField(max_length=32, null=True)
    author_avatar = CharField(max_length=100, null=True)  # imageboard/avatars.py
    content = CharField(max_length=1000)
    is_deleted = BooleanField(default=False)
    created_at = DateTimeTZField(default=utcnow)
    updated_at = DateTimeTZField(default=utcnow)
    edited = BooleanField(default=False)  # contract v2 section 4.1
    removed = BooleanField(default=False)  # section 4.3 (author and content kept for restore)
    removed_reason = CharField(max_length=500, null=True)
    removed_at = DateTimeTZField(null=True)
    removed_by = BigIntegerField(null=True)
    listed = BooleanField(default=True)  # in its post's list (placeholders.py)

    class Meta:
        table_name = "comments"


class PostTarget(BaseModel):
    """What this service knows of a post: author and title for comment.created, and whether
    it is removed; kept by the posts service (update_post_target) and its events."""

    post_id = BigIntegerField(primary_key=True)
    author_id = BigIntegerField()
    title = CharField(max_length=255)
    removed = BooleanField(default=False)

    class Meta:
        table_name = "post_targets"


Outbox = outbox_model(database)

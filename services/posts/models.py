from peewee import (BigAutoField, BigIntegerField, BooleanField, CharField, DatabaseProxy,
                    IntegerField, Model, TextField)
from playhouse.postgres_ext import DateTimeTZField

from imageboard.events.outbox import outbox_model
from imageboard.timefmt import utcnow

database = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database


class Post(BaseModel):
    id = BigAutoField()
    title = CharField(max_length=255)
    content = TextField()
    image = CharField(max_length=100, null=True)
    author_id = BigIntegerField()
    author_username = CharField(max_length=32)
    author_avatar = CharField(max_length=100, null=True)  # imageboard/avatars.py
    likes_count = IntegerField(default=0)
    comments_count = IntegerField(default=0)
    comments_count_version = BigIntegerField(default=0)  # see sync_comments_count
    created_at = DateTimeTZField(default=utcnow)
    updated_at = DateTimeTZField(default=utcnow)
    edited = BooleanField(default=False)  # contract v2 section 4.1 (lifecycle.py)
    removed = BooleanField(default=False)  # section 4.3: hidden from all but admins
    removed_reason = CharField(max_length=500, null=True)
    removed_at = DateTimeTZField(null=True)
    removed_by = BigIntegerField(null=True)

    class Meta:
        table_name = "posts"


class PostsTotal(BaseModel):
    """One row: the number of posts, kept by triggers (migrations/0001_posts.sql)."""

    id = BooleanField(primary_key=True)
    total = BigIntegerField()

    class Meta:
        table_name = "posts_total"


Outbox = outbox_model(database)

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

    class Meta:
        table_name = "comments"


Outbox = outbox_model(database)

from peewee import (BigAutoField, BigIntegerField, BooleanField, CharField, DatabaseProxy,
                    Model, TextField, UUIDField)
from playhouse.postgres_ext import BinaryJSONField, DateTimeTZField

from imageboard.events.outbox import outbox_model
from imageboard.timefmt import utcnow

database = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database


class KnownUser(BaseModel):
    id = BigIntegerField(primary_key=True)
    username = CharField(max_length=32)
    updated_at = DateTimeTZField(default=utcnow)

    class Meta:
        table_name = "known_users"


class Notification(BaseModel):
    id = BigAutoField()
    user_id = BigIntegerField()
    type = CharField(max_length=16)
    message = TextField()
    data = BinaryJSONField(default=dict)
    read = BooleanField(default=False)
    source_event_id = UUIDField()
    created_at = DateTimeTZField(default=utcnow)

    class Meta:
        table_name = "notifications"


class ProcessedEvent(BaseModel):
    event_id = UUIDField(primary_key=True)
    event_type = TextField()
    processed_at = DateTimeTZField(default=utcnow)

    class Meta:
        table_name = "processed_events"


# notification.created / notification.read, written with the change they describe.
Outbox = outbox_model(database)

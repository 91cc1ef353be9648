from peewee import (BigAutoField, BooleanField, CharField, DatabaseProxy, IntegerField,
                    Model, TextField)
from playhouse.postgres_ext import DateTimeTZField

from imageboard.access.log import access_log_model
from imageboard.events.outbox import outbox_model
from imageboard.timefmt import utcnow

database = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database


class User(BaseModel):
    id = BigAutoField()
    username = CharField(max_length=32)
    email = CharField(max_length=254)
    password_hash = TextField()
    first_name = CharField(max_length=150, default="")
    last_name = CharField(max_length=150, default="")
    is_admin = BooleanField(default=False)
    bio = CharField(max_length=500, default="")
    avatar = CharField(max_length=64, null=True)  # file name under MEDIA_ROOT
    token_version = IntegerField(default=0)  # tokens carry it as `ver` (imageboard/access)
    created_at = DateTimeTZField(default=utcnow)
    updated_at = DateTimeTZField(default=utcnow)

    class Meta:
        table_name = "users"


# Events (user.registered, user.logged_in, user.updated) written in the same transaction as the change.
Outbox = outbox_model(database)

# Token versions, revoked tokens, admin flags, erasures: the access feed's log (imageboard/access).
AccessChange = access_log_model(database)

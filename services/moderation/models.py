from peewee import (BigAutoField, BigIntegerField, CharField, DatabaseProxy, IntegerField,
                    Model, TextField, UUIDField)
from playhouse.postgres_ext import DateTimeTZField

from imageboard.access.log import access_log_model
from imageboard.events.outbox import outbox_model
from imageboard.timefmt import utcnow

database = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database


class Report(BaseModel):
    id = BigAutoField()
    target_type = CharField()
    target_id = BigIntegerField()
    post_id = BigIntegerField()
    reason = CharField()
    details = TextField(default="")
    reporter_id = BigIntegerField(null=True)
    reporter_username = CharField(null=True)
    target_author_id = BigIntegerField(null=True)
    target_author_username = CharField(null=True)
    target_title = TextField(null=True)
    target_content = TextField(default="")
    status = CharField(default="open")
    created_at = DateTimeTZField(default=utcnow)
    resolution_action = CharField(null=True)
    resolution_note = TextField(null=True)
    resolution_ban_days = IntegerField(null=True)
    resolved_by_id = BigIntegerField(null=True)
    resolved_by_username = CharField(null=True)
    resolved_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "reports"


class Ban(BaseModel):
    id = BigAutoField()
    user_id = BigIntegerField()
    reason = TextField()
    created_at = DateTimeTZField()
    expires_at = DateTimeTZField(null=True)
    banned_by = BigIntegerField(null=True)
    report_id = BigIntegerField(null=True)
    lifted_at = DateTimeTZField(null=True)
    lifted_by = BigIntegerField(null=True)

    class Meta:
        table_name = "bans"


class ModlogEntry(BaseModel):
    id = BigAutoField()
    action = CharField()
    target_type = CharField()
    target_id = BigIntegerField()
    reason = TextField(default="")
    created_at = DateTimeTZField(default=utcnow)
    expires_at = DateTimeTZField(null=True)
    moderator_id = BigIntegerField(null=True)
    moderator_username = CharField(null=True)
    source_event_id = UUIDField(null=True)

    class Meta:
        table_name = "modlog"


# report.*, user.banned, user.unbanned: written in the same transaction as the change.
Outbox = outbox_model(database)

# Bans and unbans for every gateway (imageboard/access): this service is an access source.
AccessChange = access_log_model(database)

"""Transactional outbox: a service writes its events into its own database in the same
transaction as the change; a relay (imageboard.events.relay) publishes them to Kafka and
marks them sent. With Kafka down, writes still succeed; the events wait here.

Each service's migrations create the table (services/users/migrations/0002_outbox.sql is
the template; migrations are frozen per database, so each service keeps its own copy) and
bind the model to its database:

    Outbox = outbox_model(database)           # in models.py
    record_event(Outbox, PostLiked(post_id=post.id, ...), key=post.id, actor_id=user_id)
    # ...called inside the same `with db.atomic():` block as the change itself.

The payload is a model of the event catalogue (contracts/events.py): its class says the
event's type, version and topic, and the event is validated as consumers will read it
before the row is written, so a payload the catalogue does not declare never leaves.
"""
from peewee import BigAutoField, CharField, Model, TextField
from playhouse.postgres_ext import DateTimeTZField

from contracts.events import encode, new_event

NOTIFY_CHANNEL = "outbox"


def outbox_model(database):
    class Outbox(Model):
        id = BigAutoField()
        event_id = CharField()
        topic = CharField()
        event_key = CharField()
        event_type = CharField()
        body = TextField()
        created_at = DateTimeTZField(null=True)
        published_at = DateTimeTZField(null=True)

        class Meta:
            table_name = "outbox"

    Outbox._meta.set_database(database)
    return Outbox


# The row and the relay's wake-up in one round trip (NOTIFY is delivered at commit and
# dropped on rollback). Every write of every service records an event: a statement less each.
_RECORD_SQL = ("INSERT INTO outbox (event_id, topic, event_key, event_type, body) "
               f"VALUES (%s, %s, %s, %s, %s); NOTIFY {NOTIFY_CHANNEL}")


def record_event(outbox, payload, key, actor_id):
    """Append one event to the outbox; call inside the transaction of the change. Returns
    the contracts.events.Event written. Raises InvalidEvent (a payload field out of its
    declared type) or TypeError (not a catalogue model, a field missing): the change's
    transaction then rolls back with it."""
    event = new_event(payload, key, actor_id)
    entry = payload.spec
    outbox._meta.database.execute_sql(_RECORD_SQL, (
        str(event.event_id), entry.topic, event.key, entry.type, encode(event).decode()))
    return event

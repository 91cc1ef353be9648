"""Checks an event (as the plain dict read back from Kafka) against the catalogue
(contracts/events.py, which must decode it) and against its generated JSON Schema in
imageboard/events/schemas/ (what readers outside Python rely on)."""
import json
from functools import lru_cache

import jsonschema

from contracts.events import CATALOGUE, decode
from imageboard.events.envelope import schema_path


@lru_cache(maxsize=None)
def schema_for(event_type, version=1):
    with open(schema_path(event_type, version)) as fh:
        return json.load(fh)


def validate_event(event):
    """Raises jsonschema.ValidationError or contracts.events.InvalidEvent; returns the
    typed Event."""
    entry = (CATALOGUE.get(event.get("type"), event.get("version"))
             or CATALOGUE.latest(event.get("type")))  # whose schema refuses that version
    jsonschema.validate(event, schema_for(entry.type, entry.version),
                        format_checker=jsonschema.FormatChecker())
    return decode(json.dumps(event))

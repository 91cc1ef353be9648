"""Checks an event against its JSON Schema in imageboard/events/schemas/ (the catalogue
docs/events.md documents)."""
import json
from functools import lru_cache

import jsonschema

from imageboard.events.envelope import schema_path


@lru_cache(maxsize=None)
def schema_for(event_type):
    with open(schema_path(event_type)) as fh:
        return json.load(fh)


def validate_event(event):
    jsonschema.validate(event, schema_for(event["type"]), format_checker=jsonschema.FormatChecker())

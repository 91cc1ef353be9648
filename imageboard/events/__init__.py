"""Domain events: one envelope for every topic; contracts/events.py is the catalogue of
types (docs/events.md)."""

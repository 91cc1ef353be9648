"""Domain events: one envelope for every topic (docs/events.md is the catalogue)."""

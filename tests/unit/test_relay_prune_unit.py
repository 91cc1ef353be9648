"""The relay's hourly prune on a machine booted minutes ago (the monotonic clock starts
near zero at boot): the first round must prune, the next within the hour must not."""
from imageboard.events import relay as relay_module
from imageboard.events.relay import Relay


def test_first_prune_runs_even_right_after_boot(monkeypatch):
    relay = Relay({"OUTBOX_RETENTION_DAYS": 7}, "users")
    statements = []
    monkeypatch.setattr(relay, "_query", lambda sql, params=(): statements.append(sql) or 0)
    monkeypatch.setattr(relay_module.time, "monotonic", lambda: 120.0)  # up for two minutes

    relay._prune_published()
    assert len(statements) == 1 and statements[0].startswith("DELETE FROM outbox")

    monkeypatch.setattr(relay_module.time, "monotonic", lambda: 120.0 + 3599)
    relay._prune_published()
    assert len(statements) == 1  # not again within the hour

    monkeypatch.setattr(relay_module.time, "monotonic", lambda: 120.0 + 3601)
    relay._prune_published()
    assert len(statements) == 2

"""Which servers `imageboard down` stops: those its own `up` started, not those started by
`imageboard infra up` / `make test` (README: "stop exactly what `up` started"); `imageboard
infra down` stops both. Fake components stand in for the servers."""
import json
import os

import pytest

from imageboard_ops import infra, system


class FakeServer(infra.Component):
    running_now = set()
    stopped = []

    def address(self):
        return "127.0.0.1", 1

    def install(self):
        pass

    def running(self):
        return self.name in self.running_now

    def start(self):
        self.running_now.add(self.name)

    def wait(self):
        pass

    def stop(self):
        self.running_now.discard(self.name)
        self.stopped.append(self.name)


def fake(name):
    return type(f"Fake{name}", (FakeServer,), {"name": name})


@pytest.fixture
def servers(monkeypatch, tmp_path):
    monkeypatch.setenv("IMAGEBOARD_VAR", str(tmp_path))
    monkeypatch.setattr(infra, "COMPONENTS", [fake("broker"), fake("database")])
    monkeypatch.setattr(system.processes, "app_processes", lambda config: [])
    FakeServer.running_now, FakeServer.stopped = set(), []
    return FakeServer


def test_down_stops_what_up_started_and_leaves_what_infra_up_started(servers):
    assert infra.ensure({}, only=["broker"]) == {"broker": "started"}        # `infra up`
    assert infra.ensure({}, starter=infra.STACK) == {"broker": "reused",     # `up`
                                                     "database": "started"}
    assert infra.status({})["broker"]["owner"] == "imageboard infra"
    assert infra.status({})["database"]["owner"] == "imageboard stack"

    system.stop({}, keep_infra=False)                                        # `down`
    assert servers.stopped == ["database"] and servers.running_now == {"broker"}

    assert infra.stop_started({}) == []                                      # `infra down`
    assert servers.stopped == ["database", "broker"] and servers.running_now == set()


def test_a_server_running_before_is_never_stopped(servers):
    servers.running_now.add("database")
    assert infra.ensure({}, starter=infra.STACK) == {"broker": "started", "database": "reused"}
    infra.stop_started({})
    assert servers.stopped == ["broker"] and servers.running_now == {"database"}
    assert infra.status({})["database"]["owner"] == "external"


def test_state_of_the_older_format_counts_as_started_by_up(servers, tmp_path):
    servers.running_now.update({"broker", "database"})
    with open(os.path.join(infra.var_dir(), "run", "infra.json"), "w") as fh:
        json.dump(["broker"], fh)
    system.stop({}, keep_infra=False)
    assert servers.stopped == ["broker"]

"""The operator tools learn each service's store, outbox and metrics port from the service
class itself (imageboard_ops/components.py), so no list beside the services can go stale."""
import pytest

from imageboard_ops.components import component, service_class


def test_each_service_declares_what_the_tools_need():
    found = {name: component(name) for name in ("users", "posts", "comments", "notifications",
                                                 "analytics")}
    assert {name: c.store for name, c in found.items()} == {
        "users": "postgres", "posts": "postgres", "comments": "postgres",
        "notifications": "postgres", "analytics": "clickhouse"}
    assert {name for name, c in found.items() if c.outbox} == {
        "users", "posts", "comments", "notifications"}
    offsets = [c.metrics_port_offset for c in found.values()]
    assert len(set(offsets)) == len(offsets)  # two services on one port would clash


def test_every_service_answers_ping_and_outbox_services_their_status():
    for name in ("users", "posts", "comments", "notifications", "analytics"):
        cls = service_class(name)
        assert hasattr(cls, "ping")
        assert hasattr(cls, "outbox_status") == component(name).outbox


def test_an_unknown_service_is_a_clear_error():
    with pytest.raises(ModuleNotFoundError):
        service_class("nosuch")


def test_nameko_run_finds_exactly_the_service_in_each_module():
    """`nameko run services.<name>.service` runs every class of the module that has
    entrypoints: the kernel's base classes must not be among them."""
    from nameko.cli.run import import_service
    for name in ("users", "posts", "comments", "notifications", "analytics"):
        assert import_service(f"services.{name}.service") == [service_class(name)]

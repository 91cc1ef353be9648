"""What the operator tools need to know about each service, read from the service's own
class rather than from lists kept beside it: its store (the `store` of its database
dependency), whether it has an outbox (an OutboxRelay dependency) and its metrics port
offset (`metrics_port_offset`)."""
import functools
import importlib
import inspect
from dataclasses import dataclass

from nameko.extensions import DependencyProvider

from imageboard.events.relay import OutboxRelay


@dataclass(frozen=True)
class Component:
    name: str
    store: str | None
    outbox: bool
    metrics_port_offset: int


def service_class(name):
    module = importlib.import_module(f"services.{name}.service")
    for value in vars(module).values():
        if isinstance(value, type) and getattr(value, "name", None) == name:
            return value
    raise LookupError(f"services/{name}/service.py defines no service named {name!r}")


@functools.lru_cache(maxsize=None)
def component(name):
    cls = service_class(name)
    dependencies = [v for _, v in inspect.getmembers(cls) if isinstance(v, DependencyProvider)]
    stores = {dep.store for dep in dependencies if getattr(dep, "store", None)}
    if len(stores) > 1:
        raise LookupError(f"service {name!r} declares more than one store: {sorted(stores)}")
    return Component(name=name, store=next(iter(stores), None),
                     outbox=any(isinstance(dep, OutboxRelay) for dep in dependencies),
                     metrics_port_offset=cls.metrics_port_offset)


def components(config):
    return [component(name) for name in config["SERVICES"]]

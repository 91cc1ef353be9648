"""The access changes a worker recorded, kept until its AccessFeed publishes them.

threading.local is per green thread in a service (nameko runs monkey-patched) and nameko
runs worker_setup, the method and worker_result in the worker's own green thread."""
import threading

_local = threading.local()


def start():
    _local.changes = []


def add(change):
    changes = getattr(_local, "changes", None)
    if changes is not None:  # outside a feed-carrying worker (a script, a test): nothing to publish
        changes.append(change)


def take():
    changes = getattr(_local, "changes", None) or []
    _local.changes = None
    return changes

"""Restart the Python processes of a stack kept by `python -m bench.run --keep` (after a
code change), with the environment they were started with; the servers and the seeded
data stay. KEY=VALUE arguments override settings for this start (e.g. to compare one).
Then measure again with wrk or `python -m bench.cpu_split`.

    .venv/bin/python -m bench.restart [OUTBOX_COALESCE_SECONDS=0.1 ...]
"""
import os
import sys

from bench.instance import VAR


def started_environment(var):
    """The environment of the kept stack's gateway, as it was started."""
    with open(os.path.join(var, "run", "gateway.pid")) as fh:
        pid = int(fh.read().strip())
    with open(f"/proc/{pid}/environ", "rb") as fh:
        pairs = [item.split(b"=", 1) for item in fh.read().split(b"\0") if b"=" in item]
    return {k.decode(): v.decode() for k, v in pairs}


def main():
    os.environ.update(started_environment(VAR))
    os.environ.update(arg.split("=", 1) for arg in sys.argv[1:])
    from imageboard.config import load_config
    from imageboard_ops import system

    config = load_config()
    system.stop(config, keep_infra=True)
    print(system.start(config, with_infra=False, timeout=120)["gateway"])


if __name__ == "__main__":
    main()

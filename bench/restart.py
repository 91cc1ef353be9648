"""Restart the Python processes of a stack kept by `python -m bench.run --keep` (after a
code change), with the environment they were started with; the servers and the seeded
data stay. Then measure again with wrk or `python -m bench.cpu_split`.

    .venv/bin/python -m bench.restart [/tmp/imageboard-bench-var]
"""
import os
import sys
import tempfile

VAR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(),
                                                           "imageboard-bench-var")


def started_environment(var):
    """The environment of the kept stack's gateway, as it was started."""
    with open(os.path.join(var, "run", "gateway.pid")) as fh:
        pid = int(fh.read().strip())
    with open(f"/proc/{pid}/environ", "rb") as fh:
        pairs = [item.split(b"=", 1) for item in fh.read().split(b"\0") if b"=" in item]
    return {k.decode(): v.decode() for k, v in pairs}


def main():
    os.environ.update(started_environment(VAR))
    from imageboard.config import load_config
    from imageboard.ops import system

    config = load_config()
    system.stop(config, keep_infra=True)
    print(system.start(config, with_infra=False, timeout=120)["gateway"])


if __name__ == "__main__":
    main()

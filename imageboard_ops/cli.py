"""`imageboard`: the operator's entry point.

  imageboard up | down | run | status      the whole system (infra + services + gateway)
  imageboard infra up | down | status      only RabbitMQ, PostgreSQL, Kafka, ClickHouse
  imageboard migrate [SERVICE ...]         apply schema migrations
  imageboard make-admin USERNAME [--revoke]   rights follow within 1 s, old tokens too
  imageboard revoke-sessions USERNAME        every token of the user refused within 1 s
  imageboard delete-user USERNAME           erase an account (docs/operations.md)
"""
import argparse
import json
import logging
import signal
import sys
import time

import requests

from imageboard import logs
from imageboard.config import load_config
from imageboard.settings import ConfigError
from imageboard_ops import accounts, infra, moderation, processes, system, web
from imageboard_ops.system import gateway_url
from imageboard.config import var_dir
from imageboard_ops.util import pid_alive, read_pid

log = logging.getLogger("imageboard")


def cmd_up(config, args):
    try:
        report = system.start(config, with_infra=not args.no_infra)
    except TimeoutError as exc:
        print(f"imageboard: {exc}; see the logs in {var_dir()}/log", file=sys.stderr)
        return 1
    print(json.dumps(dict(report, var=var_dir(), web=web.start(config))))
    return 0


def cmd_down(config, args):
    web.stop()
    system.stop(config, keep_infra=args.keep_infra)
    print("stopped")
    return 0


def cmd_status(config, args):
    parts = {"infra": infra.status(config), "processes": {}}
    for spec in processes.app_processes(config):
        pid = read_pid(spec.name)
        parts["processes"][spec.name] = {"pid": pid, "running": pid_alive(pid)}
    base = gateway_url(config)
    try:
        ready = requests.get(base + "/ready", timeout=5)
        parts["ready"] = ready.json()
    except (requests.RequestException, ValueError) as exc:
        parts["ready"] = {"status": "unreachable", "error": str(exc)}
    try:  # the stream process's own /ready (Kafka read up to date, access feed fresh)
        stream = requests.get(system.stream_url(config) + "/ready", timeout=5)
        parts["stream_ready"] = stream.json()
    except (requests.RequestException, ValueError) as exc:
        parts["stream_ready"] = {"status": "unreachable", "error": str(exc)}
    print(json.dumps(parts, indent=2))
    return 0 if (parts["ready"].get("status") == "ready"
                 and parts["stream_ready"].get("status") == "ok") else 1


def cmd_run(config, args):
    """Foreground: start everything, stop everything on Ctrl-C (or SIGTERM)."""
    code = cmd_up(config, args)
    if code:
        cmd_down(config, args)
        return code
    front = web.start(config)  # already up: cmd_up started it; this gives the address
    where = (f"the web client at {front['url']} (API under /api/, docs at {front['url']}api/docs/)"
             if "url" in front else f"the API at {gateway_url(config)} (no web client: {front['skipped']})")
    print(f"imageboard is running: {where}; gateway {gateway_url(config)}; Ctrl-C stops it",
          flush=True)
    stopping = []
    # Handle SIGINT explicitly: a shell that starts us in the background leaves it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.append(1))
    try:
        while not stopping:
            for spec in processes.app_processes(config):
                if not pid_alive(read_pid(spec.name)):
                    print(f"imageboard: {spec.name} exited; restarting it (log: var/log/{spec.name}.log)",
                          file=sys.stderr, flush=True)
                    processes.start(spec)
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    return cmd_down(config, args)


def cmd_infra(config, args):
    if args.action == "up":
        print(json.dumps(infra.ensure(config)))
    elif args.action == "down":
        infra.stop_started(config)
        print("stopped")
    else:
        print(json.dumps(infra.status(config), indent=2))
    return 0


def cmd_migrate(config, args):
    from imageboard_ops.migrate import migrate_all
    print(json.dumps(migrate_all(config, args.services or None)))
    return 0


def _users_call(config, method, *args):
    """One users-service RPC; prints its result (0) or its error (1)."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from contracts.errors import DomainError
    try:
        with ClusterRpcProxy(config, timeout=float(config["RPC_TIMEOUT"])) as rpc:
            result = getattr(rpc.users, method)(*args)
    except DomainError as exc:
        print(f"imageboard: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


def cmd_make_admin(config, args):
    # Through the access log: every gateway applies it within 1 s, to existing tokens too.
    return _users_call(config, "set_admin", args.username, not args.revoke)


def cmd_revoke_sessions(config, args):
    return _users_call(config, "revoke_sessions", args.username)


def build_parser():
    parser = argparse.ArgumentParser(prog="imageboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start infra, migrate, start services and gateway")
    up.add_argument("--no-infra", action="store_true", help="expect the servers to be running")
    up.set_defaults(func=cmd_up)
    run_ = sub.add_parser("run", help="like up, in the foreground; Ctrl-C stops everything")
    run_.add_argument("--no-infra", action="store_true")
    run_.add_argument("--keep-infra", action="store_true")
    run_.set_defaults(func=cmd_run)
    down = sub.add_parser("down", help="stop what up started")
    down.add_argument("--keep-infra", action="store_true", help="leave the servers running")
    down.set_defaults(func=cmd_down)
    sub.add_parser("status", help="show each part").set_defaults(func=cmd_status)
    inf = sub.add_parser("infra", help="only the servers")
    inf.add_argument("action", choices=["up", "down", "status"])
    inf.set_defaults(func=cmd_infra)
    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.add_argument("services", nargs="*")
    mig.set_defaults(func=cmd_migrate)
    adm = sub.add_parser("make-admin", help="grant (or --revoke) admin rights")
    adm.add_argument("username")
    adm.add_argument("--revoke", action="store_true")
    adm.set_defaults(func=cmd_make_admin)
    rev = sub.add_parser("revoke-sessions", help="log a user out everywhere (every token)")
    rev.add_argument("username")
    rev.set_defaults(func=cmd_revoke_sessions)
    accounts.add_commands(sub)
    moderation.add_commands(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"imageboard: {exc}", file=sys.stderr)
        return 2
    logs.configure(config["LOG_LEVEL"])
    try:
        return args.func(config, args)
    except (infra.InfraError, TimeoutError) as exc:
        print(f"imageboard: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

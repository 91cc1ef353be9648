"""Operators' moderation (contract v2 section 5; docs/operations.md, "Moderating"): the
report queue, bans and removals from the command line, acting as a named admin so the
modlog says who did it.

    imageboard reports [--status open|resolved] [--page N] [--limit N]
    imageboard ban alice --reason spam (--days 7 | --permanent) --moderator root
    imageboard unban alice [--reason appeal] --moderator root
    imageboard remove post 12 --reason spam --moderator root
    imageboard restore comment 88 --reason mistake --moderator root
"""
import json
import sys


class _Refused(Exception):
    pass


def _call(config, action):
    """Runs action(rpc) against the running services; prints its JSON result (0) or the
    error (1)."""
    from nameko.exceptions import RemoteError
    from nameko.standalone.rpc import ClusterRpcProxy

    from contracts.errors import DomainError
    try:
        with ClusterRpcProxy(config, timeout=float(config["RPC_TIMEOUT"])) as rpc:
            result = action(rpc)
    except (DomainError, _Refused, RemoteError) as exc:
        print(f"imageboard: {getattr(exc, 'message', None) or exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


def _moderator(rpc, username):
    """{"id", "username"} of an admin, the one the modlog names."""
    user = rpc.users.find_user(username)
    if not user["is_admin"]:
        raise _Refused(f"{username} is not an admin (imageboard make-admin {username})")
    return {"id": user["id"], "username": user["username"]}


def cmd_reports(config, args):
    return _call(config, lambda rpc: rpc.moderation.list_reports(args.status, args.page,
                                                                 args.limit))


def cmd_ban(config, args):
    def ban(rpc):
        moderator = _moderator(rpc, args.moderator)
        user = rpc.users.find_user(args.username)
        days = None if args.permanent else args.days
        return rpc.moderation.ban_user(user["id"], {"reason": args.reason, "days": days},
                                       moderator)
    return _call(config, ban)


def cmd_unban(config, args):
    def unban(rpc):
        moderator = _moderator(rpc, args.moderator)
        user = rpc.users.find_user(args.username)
        rpc.moderation.unban_user(user["id"], {"reason": args.reason}, moderator)
        return {"user_id": user["id"], "unbanned": True}
    return _call(config, unban)


def _content(method):
    def command(config, args):
        def act(rpc):
            moderator = _moderator(rpc, args.moderator)
            return getattr(rpc.moderation, method)(args.target_type, args.target_id,
                                                   args.reason, moderator["id"])
        return _call(config, act)
    return command


def add_commands(sub):
    reports = sub.add_parser("reports", help="list reports, newest first")
    reports.add_argument("--status", choices=["open", "resolved"])
    reports.add_argument("--page", type=int, default=1)
    reports.add_argument("--limit", type=int, default=20)
    reports.set_defaults(func=cmd_reports)

    ban = sub.add_parser("ban", help="ban a user (writes refused within 1 s)")
    ban.add_argument("username")
    ban.add_argument("--reason", required=True)
    length = ban.add_mutually_exclusive_group(required=True)
    length.add_argument("--days", type=int)
    length.add_argument("--permanent", action="store_true")
    ban.add_argument("--moderator", required=True, help="the admin the modlog names")
    ban.set_defaults(func=cmd_ban)

    unban = sub.add_parser("unban", help="lift a user's ban")
    unban.add_argument("username")
    unban.add_argument("--reason", default="")
    unban.add_argument("--moderator", required=True, help="the admin the modlog names")
    unban.set_defaults(func=cmd_unban)

    for name, method, what in (("remove", "remove_content", "remove a post or comment"),
                               ("restore", "restore_content", "restore a removed one")):
        parser = sub.add_parser(name, help=what)
        parser.add_argument("target_type", choices=["post", "comment"])
        parser.add_argument("target_id", type=int)
        parser.add_argument("--reason", required=True)
        parser.add_argument("--moderator", required=True, help="the admin the modlog names")
        parser.set_defaults(func=_content(method))

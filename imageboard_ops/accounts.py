"""`imageboard delete-user USERNAME`: an operator erases an account (contract v2 section 6.3)
without its password: the users service deletes the row and records `user.deleted`; every
other service erases the rest within 60 s (docs/operations.md, "Deleting an account")."""
import json
import sys


def cmd_delete_user(config, args):
    from nameko.standalone.rpc import ClusterRpcProxy

    from contracts.errors import DomainError
    try:
        with ClusterRpcProxy(config, timeout=float(config["RPC_TIMEOUT"])) as rpc:
            result = rpc.users.delete_user(args.username)
    except DomainError as exc:
        print(f"imageboard: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    print("Posts, comments, likes, notifications, analytics rows and files follow within 60 s.",
          file=sys.stderr)
    return 0


def add_commands(sub):
    delete = sub.add_parser("delete-user", help="erase an account and everything it made")
    delete.add_argument("username")
    delete.set_defaults(func=cmd_delete_user)

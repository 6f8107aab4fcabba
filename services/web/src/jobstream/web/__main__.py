"""`jobstream-web`: the service roles (shared CLI) and account commands for operators."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from jobstream.auth import Role
from jobstream.db import async_engine
from jobstream.errors import RefusedError
from jobstream.service import get_settings as service_settings
from jobstream.service import run_service_cli
from jobstream.web import handlers
from jobstream.web.app import definition
from jobstream.web.config import get_settings
from jobstream.web.db import queries
from jobstream.web.domain.accounts import AccountRejectedError
from jobstream.web.domain.commands import CreateAccount, DisableAccount, ResetPassword

ACCOUNT_COMMANDS = ("accounts",)


def _accounts_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jobstream-web accounts")
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser(
        "create", help="a new account (password from JOBSTREAM_PASSWORD or asked for)"
    )
    create.add_argument("username")
    create.add_argument("--role", choices=[r.value for r in Role], required=True)
    create.add_argument("--name", required=True, help="shown on the pages")
    create.add_argument("--technician-id")
    create.add_argument("--customer-id")
    create.add_argument("--email")
    create.add_argument(
        "--keep-password",
        action="store_true",
        help="do not ask for a new password at first sign-in",
    )
    reset = sub.add_parser("reset-password", help="set a new password (unlocks the account)")
    reset.add_argument("username")
    disable = sub.add_parser("disable", help="no more sign-ins; sessions end")
    disable.add_argument("username")
    disable.add_argument("--reason", required=True)
    sub.add_parser("list", help="every account")
    sub.add_parser("demo", help="create the demo accounts (one per role) and print them")
    return parser


def _password() -> str:
    return os.environ.get("JOBSTREAM_PASSWORD") or getpass.getpass("Password: ")


async def _accounts(args: argparse.Namespace) -> int:
    settings = service_settings("web")
    engine = async_engine(settings.database.url.get_secret_value())
    ctx = handlers.Context(engine, get_settings())
    try:
        if args.action == "create":
            account = await handlers.create_account(
                CreateAccount(
                    username=args.username,
                    display_name=args.name,
                    role=Role(args.role),
                    password=_password(),
                    by="cli",
                    technician_id=args.technician_id,
                    customer_id=args.customer_id,
                    email=args.email,
                    must_change_password=not args.keep_password,
                ),
                ctx,
            )
            print(f"created {account.username} ({account.role.value})")
        elif args.action == "reset-password":
            await handlers.reset_password(ResetPassword(args.username, _password(), "cli"), ctx)
            print(f"new password set for {args.username}; they choose their own at sign-in")
        elif args.action == "disable":
            await handlers.disable_account(DisableAccount(args.username, args.reason, "cli"), ctx)
            print(f"disabled {args.username}")
        elif args.action == "demo":
            from jobstream.web.demo_accounts import seed

            for demo, created in await seed(ctx):
                bound = demo.technician_id or demo.customer_id or ""
                print(
                    f"  {demo.role.value:<11} {demo.username:<16} {demo.password:<22} {bound}"
                    f"{'' if created else '   (existed)'}"
                )
        else:
            async with engine.connect() as conn:
                for a in await queries.list_accounts(conn):
                    binding = a.technician_id or a.customer_id or ""
                    state = "disabled" if a.disabled else "active"
                    print(f"{a.username}\t{a.role.value}\t{binding}\t{state}")
    except RefusedError as exc:
        field = f" ({exc.field})" if isinstance(exc, AccountRejectedError) and exc.field else ""
        print(f"jobstream-web accounts: {exc}{field}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    return 0


def main() -> None:
    """Service roles, or ``accounts …``."""
    argv = sys.argv[1:]
    if argv[:1] == ["accounts"]:
        sys.exit(asyncio.run(_accounts(_accounts_parser().parse_args(argv[1:]))))
    sys.exit(run_service_cli(definition(), argv))


if __name__ == "__main__":
    main()

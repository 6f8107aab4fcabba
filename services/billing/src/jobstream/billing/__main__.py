"""`jobstream-billing migrate|api|consume|relay|serve|rebuild|generations`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from jobstream.billing.app import definition
from jobstream.billing.db import generations
from jobstream.billing.rebuild import rebuild
from jobstream.db import async_engine
from jobstream.observability.logging import configure_logging
from jobstream.service import get_settings, run_service_cli

OWN_COMMANDS = ("rebuild", "generations")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jobstream-billing")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "rebuild",
        help="rebuild the billing projection from offset zero into a new generation, "
        "verify it and switch to it (the old generation serves meanwhile)",
    )
    p.add_argument("--no-switch", action="store_true", help="build and verify only")
    p.add_argument(
        "--allow-drift",
        action="store_true",
        help="switch even if a re-priced invoice differs from the recorded one",
    )
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds to catch up")
    g = sub.add_parser("generations", help="list, switch to or drop projection generations")
    g.add_argument("action", choices=("list", "switch", "drop"))
    g.add_argument("number", type=int, nargs="?")
    return parser


async def _run(args: argparse.Namespace) -> int:
    settings = get_settings("billing")
    engine = async_engine(settings.database.url.get_secret_value(), pool_size=4)
    try:
        if args.command == "rebuild":
            report = await rebuild(
                engine,
                bootstrap_servers=settings.kafka.bootstrap_servers,
                namespace=settings.namespace,
                switch=not args.no_switch,
                allow_drift=args.allow_drift,
                timeout_s=args.timeout,
            )
            print(json.dumps(report.as_dict(), indent=2))
            return 1 if report.drift and not args.allow_drift else 0
        async with engine.begin() as conn:
            if args.action == "list":
                rows = await generations.list_all(conn)
                print(json.dumps(rows, indent=2, default=str))
            elif args.number is None:
                raise SystemExit(f"generations {args.action} needs a generation number")
            elif args.action == "switch":
                await generations.activate(conn, args.number, None)
            else:
                await generations.drop(conn, args.number)
        return 0
    finally:
        await engine.dispose()


def main() -> None:
    """Billing's CLI: the shared service commands plus rebuild and generations."""
    argv = sys.argv[1:]
    if argv and argv[0] in OWN_COMMANDS:
        args = _parser().parse_args(argv)
        configure_logging("billing", json_logs=get_settings("billing").environment == "production")
        sys.exit(asyncio.run(_run(args)))
    sys.exit(run_service_cli(definition(), argv))


if __name__ == "__main__":
    main()

"""`jobstream-intake migrate|api|consume|relay|serve|raise-due-maintenance`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime

from jobstream.db import async_engine
from jobstream.eventstore.store import EventStore
from jobstream.intake import planner
from jobstream.intake.app import definition
from jobstream.intake.config import get_settings
from jobstream.intake.db.tables import events
from jobstream.observability.logging import configure_logging
from jobstream.service import get_settings as service_settings
from jobstream.service import run_service_cli

RAISE_DUE = "raise-due-maintenance"


async def _raise_due(as_of: date | None) -> int:
    settings = service_settings("intake")
    engine = async_engine(settings.database.url.get_secret_value(), pool_size=2)
    try:
        now = datetime.now(UTC)
        raised = await planner.raise_due(
            engine, EventStore(events), get_settings(), today=as_of or now.date(), now=now
        )
    finally:
        await engine.dispose()
    for r in raised:
        outcome = "raised" if r.created else "already raised"
        print(f"{r.plan_id} due {r.due_on}: {r.work_order_id} ({outcome})")
    return 0


def main(argv: list[str] | None = None) -> None:
    """The service's subcommands, plus raising due planned maintenance (run it from cron)."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == [RAISE_DUE]:
        parser = argparse.ArgumentParser(prog=f"jobstream-intake {RAISE_DUE}")
        parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD")
        options = parser.parse_args(args[1:])
        configure_logging(
            "intake", json_logs=service_settings("intake").environment == "production"
        )
        sys.exit(asyncio.run(_raise_due(options.as_of)))
    sys.exit(run_service_cli(definition(), args))


if __name__ == "__main__":
    main()

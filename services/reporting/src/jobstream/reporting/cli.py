"""Reporting's analyst commands beside the service roles: `rebuild`, `export`, `kpis`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jobstream.contracts.topics import EVENT_TOPICS
from jobstream.db import async_engine
from jobstream.observability.logging import configure_logging
from jobstream.reporting import analytics
from jobstream.reporting.domain.kpis import Definition, GroupBy
from jobstream.reporting.export import ExportFormat, export_events
from jobstream.reporting.rebuild import PROJECTIONS, rebuild
from jobstream.service import get_settings

COMMANDS = ("rebuild", "export", "kpis")


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} needs a time zone offset (e.g. Z)")
    return parsed.astimezone(UTC)


def parser() -> argparse.ArgumentParser:
    """The analyst commands' arguments."""
    p = argparse.ArgumentParser(prog="jobstream-reporting")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("rebuild", help="rebuild projections from zero, then switch over")
    r.add_argument(
        "projections", nargs="*", help=f"any of {', '.join(PROJECTIONS)}; all when none is named"
    )
    e = sub.add_parser("export", help="export events to Parquet or JSON Lines for DuckDB")
    e.add_argument("--out", type=Path, required=True, help="directory; events/ is written in it")
    e.add_argument("--format", choices=[f.value for f in ExportFormat], default="parquet")
    e.add_argument("--topic", action="append", choices=EVENT_TOPICS, dest="topics")
    e.add_argument("--type", action="append", dest="types", help="event type (repeatable)")
    e.add_argument("--since", type=_instant, help="occurred at or after (ISO 8601 with zone)")
    e.add_argument("--until", type=_instant, help="occurred before (ISO 8601 with zone)")
    k = sub.add_parser("kpis", help="KPIs over a period, under any definition, as JSON")
    k.add_argument("--start", type=_instant, help="default: 30 days before --end")
    k.add_argument("--end", type=_instant, help="default: now")
    k.add_argument("--as-of", type=_instant, help="answer as the log stood then")
    k.add_argument("--group-by", choices=[g.value for g in GroupBy], default="none")
    k.add_argument("--ftf-window-days", type=float, default=30.0)
    k.add_argument("--ignore-technician-flags", action="store_true")
    k.add_argument("--planned-visits-count", action="store_true")
    return p


async def _run(args: argparse.Namespace) -> int:
    settings = get_settings("reporting")
    engine = async_engine(settings.database.url.get_secret_value(), pool_size=2)
    try:
        if args.command == "rebuild":
            unknown = set(args.projections) - set(PROJECTIONS)
            if unknown:
                raise SystemExit(f"unknown projection(s): {', '.join(sorted(unknown))}")
            for name in args.projections or list(PROJECTIONS):
                report = await rebuild(engine, name)
                print(
                    f"{name}: {report.rows} rows from {report.events} events in "
                    f"{report.seconds:.1f} s ({report.events_per_second:.0f} events/s); "
                    f"switched in {report.switch_seconds * 1000:.0f} ms "
                    f"after catching up {report.caught_up}"
                )
        elif args.command == "export":
            async with engine.connect() as conn:
                result = await export_events(
                    conn,
                    args.out,
                    fmt=ExportFormat(args.format),
                    topics=args.topics,
                    types=args.types,
                    since=args.since,
                    until=args.until,
                )
            print(f"{result.events} events in {result.files} files under {result.directory}")
        else:
            end = args.end or args.as_of or datetime.now(UTC)
            start = args.start or end - timedelta(days=30)
            definition = Definition(
                ftf_window_days=args.ftf_window_days,
                ftf_trust_technician_flags=not args.ignore_technician_flags,
                ftf_planned_visits_count=args.planned_visits_count,
            )
            async with engine.connect() as conn:
                result = await analytics.compute_kpis(
                    conn,
                    start,
                    end,
                    group_by=GroupBy(args.group_by),
                    definition=definition,
                    as_of=args.as_of,
                )
            json.dump(result, sys.stdout, indent=2, default=str)
            print()
    finally:
        await engine.dispose()
    return 0


def run_analyst_cli(argv: list[str]) -> int:
    """Run one analyst command."""
    args = parser().parse_args(argv)
    configure_logging("reporting", json_logs=False)
    return asyncio.run(_run(args))

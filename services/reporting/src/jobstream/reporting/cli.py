"""`jobstream-reporting`: the service roles and the analyst commands, under one help.

The service roles are the shared CLI's (jobstream.service); the analyst commands are
`rebuild` (rebuild.py), `export` (export.py) and `kpis` (analytics.py).
"""

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
from jobstream.reporting.app import consumers, definition
from jobstream.reporting.db.tables import consumer_tables
from jobstream.reporting.domain.kpis import Definition, GroupBy
from jobstream.reporting.export import ExportFormat, export_events
from jobstream.reporting.rebuild import PROJECTIONS, rebuild, rebuild_from_kafka
from jobstream.service import ServiceSettings, get_settings, in_namespace, run_service_cli

ANALYST_COMMANDS = ("rebuild", "export", "kpis")
# The shared service CLI's subcommands (jobstream.service.run_service_cli), listed here so
# one --help shows everything; each is handed to the shared CLI as typed.
SERVICE_COMMANDS = {
    "migrate": "apply reporting's database migrations",
    "serve": "HTTP API and projector in one process",
    "api": "HTTP API only",
    "consume": "projector only (with health endpoints)",
    "relay": "outbox relay (reporting has none; health endpoints only)",
    "dead-letters": "list the projector's open dead letters",
    "redrive": "re-apply open dead letters after a fix (all, or --id N ...)",
}


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} needs a time zone offset (e.g. Z)")
    return parsed.astimezone(UTC)


def parser() -> argparse.ArgumentParser:
    """Every subcommand's arguments (the service roles' are parsed by the shared CLI)."""
    p = argparse.ArgumentParser(
        prog="jobstream-reporting",
        description="Reporting: the service roles, and analysts' rebuild, export and KPIs.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="command")
    for name, help_text in SERVICE_COMMANDS.items():
        sub.add_parser(name, help=help_text)  # listed for --help; main() hands them over
    r = sub.add_parser(
        "rebuild",
        help="rebuild projections from zero into new tables, then switch over",
        description="From reporting's event log (the named projections, or all); or with "
        "--from-kafka, everything (the event log too) from the topics at offset zero.",
    )
    r.add_argument(
        "projections", nargs="*", help=f"any of {', '.join(PROJECTIONS)}; all when none is named"
    )
    r.add_argument(
        "--from-kafka",
        action="store_true",
        help="re-read every topic from offset zero into a new generation of every table "
        "(the event log included) while the old one serves, then switch",
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


async def _rebuild(args: argparse.Namespace, settings: ServiceSettings) -> None:
    engine = async_engine(settings.database.url.get_secret_value(), pool_size=2)
    try:
        if args.from_kafka:
            if args.projections:
                raise SystemExit("--from-kafka rebuilds every table; name no projection")
            spec = in_namespace(consumers(None)[0], settings.namespace)
            report = await rebuild_from_kafka(
                engine,
                spec,
                consumer_tables,
                bootstrap_servers=settings.kafka.bootstrap_servers,
            )
            print(
                f"{report.events} events from {report.records} records in "
                f"{report.seconds:.1f} s ({report.records_per_second:.0f} records/s; "
                f"{report.duplicates} duplicates, {report.skipped} skipped); switched in "
                f"{report.switch_seconds * 1000:.0f} ms after catching up {report.caught_up}"
            )
            return
        unknown = set(args.projections) - set(PROJECTIONS)
        if unknown:
            raise SystemExit(f"unknown projection(s): {', '.join(sorted(unknown))}")
        for name in args.projections or list(PROJECTIONS):
            done = await rebuild(engine, name)
            print(
                f"{name}: {done.rows} rows from {done.events} events in "
                f"{done.seconds:.1f} s ({done.events_per_second:.0f} events/s); "
                f"switched in {done.switch_seconds * 1000:.0f} ms "
                f"after catching up {done.caught_up}"
            )
    finally:
        await engine.dispose()


async def _export(args: argparse.Namespace, settings: ServiceSettings) -> None:
    engine = async_engine(settings.database.url.get_secret_value(), pool_size=2)
    try:
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
    finally:
        await engine.dispose()


async def _kpis(args: argparse.Namespace, settings: ServiceSettings) -> None:
    end = args.end or args.as_of or datetime.now(UTC)
    start = args.start or end - timedelta(days=30)
    definition_ = Definition(
        ftf_window_days=args.ftf_window_days,
        ftf_trust_technician_flags=not args.ignore_technician_flags,
        ftf_planned_visits_count=args.planned_visits_count,
    )
    engine = async_engine(settings.database.url.get_secret_value(), pool_size=2)
    try:
        async with engine.connect() as conn:
            result = await analytics.compute_kpis(
                conn,
                start,
                end,
                group_by=GroupBy(args.group_by),
                definition=definition_,
                as_of=args.as_of,
            )
        json.dump(result, sys.stdout, indent=2, default=str)
        print()
    finally:
        await engine.dispose()


def main(argv: list[str]) -> int:
    """Run one subcommand."""
    if argv and argv[0] in SERVICE_COMMANDS:
        return run_service_cli(definition(), argv)
    args = parser().parse_args(argv)
    configure_logging("reporting", json_logs=False)
    settings = get_settings("reporting")
    command = {"rebuild": _rebuild, "export": _export, "kpis": _kpis}[args.command]
    asyncio.run(command(args, settings))
    return 0

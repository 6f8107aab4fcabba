"""Re-drive dead letters after a fix: apply each stored record once, as the consumer would.

A dead letter is re-applied from the copy kept in ``dead_letters`` rather than re-published
to its topic: the topics are the system of record that analysts replay, and a second copy
of an event there would be a lie about what happened. The record goes through the same
path as a live one (decode, processed-event check, handler, batch hook as a batch of one)
in one transaction, so a letter whose event was applied meanwhile (a relay re-send, say) is
closed as a duplicate, and one that still fails stays open with its new error.

Order: letters are re-driven oldest first. A re-driven event lands after later events of
the same job were applied; handlers are written to tolerate that (they are idempotent and
fold state), but an operator re-driving old letters should know it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from jobstream.messaging.consumer import ConsumerSpec, ConsumerTables, is_transient
from jobstream.messaging.envelope import MalformedMessageError, from_kafka

log = structlog.get_logger(__name__)


@dataclass
class RedriveReport:
    """What one re-drive did."""

    attempted: int = 0
    applied: int = 0
    duplicates: int = 0
    still_failing: int = 0


async def list_dead_letters(
    engine: AsyncEngine, tables: ConsumerTables, group_id: str | None = None
) -> list[Row[*tuple[Any, ...]]]:
    """Open dead letters (not re-driven yet), oldest first."""
    t = tables.dead_letters
    query = select(t).where(t.c.redriven_at.is_(None)).order_by(t.c.id)
    if group_id is not None:
        query = query.where(t.c.consumer_group == group_id)
    async with engine.connect() as conn:
        return list((await conn.execute(query)).all())


async def redrive(
    engine: AsyncEngine,
    spec: ConsumerSpec,
    tables: ConsumerTables,
    ids: Sequence[int] | None = None,
) -> RedriveReport:
    """Re-apply the open dead letters of ``spec``'s group (only ``ids`` when given)."""
    report = RedriveReport()
    letters = [
        row
        for row in await list_dead_letters(engine, tables, spec.group_id)
        if ids is None or row.id in ids
    ]
    for letter in letters:
        report.attempted += 1
        outcome, error = await _redrive_one(engine, spec, tables, letter)
        t = tables.dead_letters
        values: dict[str, object] = {"redrive_attempts": t.c.redrive_attempts + 1}
        if outcome == "failed":
            report.still_failing += 1
            values["error"] = error
        else:
            values["redriven_at"] = datetime.now(UTC)
            if outcome == "applied":
                report.applied += 1
            else:
                report.duplicates += 1
        async with engine.begin() as conn:
            await conn.execute(update(t).where(t.c.id == letter.id).values(**values))
        log.info("dead_letter_redriven", id=letter.id, group=spec.group_id, outcome=outcome)
    return report


async def _redrive_one(
    engine: AsyncEngine, spec: ConsumerSpec, tables: ConsumerTables, letter: Row[*tuple[Any, ...]]
) -> tuple[str, str]:
    headers = [(k, v.encode()) for k, v in (letter.headers or {}).items() if v is not None]
    try:
        envelope = from_kafka(letter.key, letter.value, headers, spec.reader)
    except MalformedMessageError as exc:
        return "failed", f"malformed: {exc}"
    handler = spec.handlers.get(envelope.type)
    if handler is None:
        return "failed", f"no handler for {envelope.type} in {spec.group_id}"
    try:
        async with engine.begin() as conn:
            inserted = await conn.execute(
                pg_insert(tables.processed)
                .values(consumer_group=spec.group_id, event_id=envelope.id)
                .on_conflict_do_nothing()
                .returning(tables.processed.c.event_id)
            )
            if inserted.first() is None:
                return "duplicate", ""
            await handler(conn, envelope)
            if spec.after_batch is not None:
                await spec.after_batch(conn, [envelope])  # a batch of one
    except Exception as exc:
        if is_transient(exc):
            raise  # an outage is not the letter's fault: stop, keep it open, try later
        return "failed", f"handler failed: {exc!r}"
    return "applied", ""

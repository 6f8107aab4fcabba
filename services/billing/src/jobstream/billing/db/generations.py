"""Projection generations: one PostgreSQL schema each, exactly one active (docs/adr/0043)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobstream.billing.db.tables import PROJECTION, generations, projection_metadata

# Serialises creating and switching generations across processes.
GENERATIONS_LOCK_KEY = 0x62696C67  # "bilg"


@dataclass(frozen=True)
class Generation:
    """One projection generation."""

    number: int
    schema: str
    state: str


def schema_name(number: int) -> str:
    """``billing_g3``."""
    return f"billing_g{number}"


def translate(schema: str) -> dict[str, Any]:
    """Execution options that point the projection tables at ``schema``."""
    return {"schema_translate_map": {PROJECTION: schema}}


def engine_for(engine: AsyncEngine, generation: Generation) -> AsyncEngine:
    """The same pool, with the projection tables in ``generation``'s schema."""
    return engine.execution_options(**translate(generation.schema))


def _row(row: Any) -> Generation:
    return Generation(row.generation, row.schema_name, row.state)


async def active(conn: AsyncConnection) -> Generation | None:
    """The generation that serves and decides, if any."""
    row = (await conn.execute(select(generations).where(generations.c.state == "active"))).first()
    return _row(row) if row else None


async def get(conn: AsyncConnection, number: int) -> Generation | None:
    """One generation by number."""
    row = (
        await conn.execute(select(generations).where(generations.c.generation == number))
    ).first()
    return _row(row) if row else None


async def list_all(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every generation, newest first."""
    rows = await conn.execute(select(generations).order_by(generations.c.generation.desc()))
    return [dict(r._mapping) for r in rows]


async def _lock(conn: AsyncConnection) -> None:
    await conn.execute(select(func.pg_advisory_xact_lock(GENERATIONS_LOCK_KEY)))


async def create(engine: AsyncEngine, state: str = "building") -> Generation:
    """A new generation: its schema and empty projection tables, built from the models."""
    async with engine.begin() as conn:
        await _lock(conn)
        last = await conn.scalar(select(func.coalesce(func.max(generations.c.generation), 0)))
        number = int(last or 0) + 1
        schema = schema_name(number)
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(
            lambda sync: projection_metadata.create_all(sync.execution_options(**translate(schema)))
        )
        now = datetime.now(UTC)
        await conn.execute(
            generations.insert().values(
                generation=number,
                schema_name=schema,
                state=state,
                activated_at=now if state == "active" else None,
            )
        )
        return Generation(number, schema, state)


async def ensure_active(engine: AsyncEngine) -> Generation:
    """The active generation, creating the first one on a fresh database."""
    async with engine.connect() as conn:
        found = await active(conn)
    if found is not None:
        return found
    async with engine.begin() as conn:
        await _lock(conn)
        found = await active(conn)
        if found is not None:
            return found
        # Nothing to rebuild from yet: the first generation decides from its first event.
        has_any = await conn.scalar(select(func.count()).select_from(generations))
    if has_any:
        raise RuntimeError("no active billing generation; run `jobstream-billing rebuild`")
    return await create(engine, state="active")


async def activate(conn: AsyncConnection, number: int, report: dict[str, Any] | None) -> None:
    """Switch: ``number`` becomes active, the previous active generation retires."""
    await _lock(conn)
    now = datetime.now(UTC)
    await conn.execute(
        update(generations)
        .where(generations.c.state == "active")
        .values(state="retired", retired_at=now)
    )
    await conn.execute(
        update(generations)
        .where(generations.c.generation == number)
        .values(state="active", activated_at=now, report=report)
    )


async def mark(conn: AsyncConnection, number: int, state: str, report: dict[str, Any]) -> None:
    """Record a generation's outcome without activating it (``failed``, ``ready``)."""
    await conn.execute(
        update(generations)
        .where(generations.c.generation == number)
        .values(state=state, report=report)
    )


async def drop(conn: AsyncConnection, number: int) -> None:
    """Drop a generation that does not serve (its schema and its row)."""
    await _lock(conn)
    found = await get(conn, number)
    if found is None:
        raise LookupError(f"no generation {number}")
    if found.state == "active":
        raise ValueError("the active generation cannot be dropped")
    await conn.execute(text(f'DROP SCHEMA "{found.schema}" CASCADE'))
    await conn.execute(generations.delete().where(generations.c.generation == number))

"""Export events for analysts: Parquet or JSON Lines that DuckDB reads as one table.

CloudEvents attributes are columns, hive-partitioned by type and UTC date, so DuckDB reads
it as one table:

    SELECT * FROM read_parquet('out/events/**/*.parquet', hive_partitioning = true);
    SELECT * FROM read_json('out/events/**/*.jsonl', hive_partitioning = true);

``data`` is the event's data as a JSON string (DuckDB: ``data::JSON``); ``time`` is a UTC
timestamp in microseconds.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.messaging.envelope import CONTENT_TYPE, SPEC_VERSION
from jobstream.reporting.db import queries


class ExportFormat(StrEnum):
    """What the files are."""

    PARQUET = "parquet"
    JSONL = "jsonl"


# The CloudEvents attributes (and Jobstream's extensions), then the data. `type` and
# `date` are the partition columns: in the directory names, not inside Parquet files.
@cache
def _arrow_layout() -> tuple[Any, Any]:
    """The Parquet files' schema and their partitioning (type, then date).

    pyarrow is imported here, not at start-up: only an export needs it, and it is tens of
    MiB a service process would otherwise carry.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    schema = pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("source", pa.string(), nullable=False),
            pa.field("specversion", pa.string(), nullable=False),
            pa.field("type", pa.string(), nullable=False),
            pa.field("subject", pa.string(), nullable=False),
            pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("datacontenttype", pa.string(), nullable=False),
            pa.field("schemaversion", pa.int32(), nullable=False),
            pa.field("sequence", pa.int64()),
            pa.field("correlationid", pa.string()),
            pa.field("causationid", pa.string()),
            pa.field("topic", pa.string(), nullable=False),
            pa.field("data", pa.string(), nullable=False),
            pa.field("date", pa.string(), nullable=False),
        ]
    )
    partitioning = ds.partitioning(
        pa.schema([pa.field("type", pa.string()), pa.field("date", pa.string())]), flavor="hive"
    )
    return schema, partitioning


@dataclass(frozen=True)
class ExportResult:
    """What was written where."""

    directory: Path
    events: int
    files: int


def row_of(event: dict[str, Any]) -> dict[str, Any]:
    """One exported row from an event-log row."""
    occurred: datetime = event["occurred_at"]
    return {
        "id": event["event_id"],
        "source": event["source"],
        "specversion": SPEC_VERSION,
        "type": event["event_type"],
        "subject": event["subject"],
        "time": occurred,
        "datacontenttype": CONTENT_TYPE,
        "schemaversion": event["schema_version"],
        "sequence": event["sequence"],
        "correlationid": event["correlation_id"],
        "causationid": event["causation_id"],
        "topic": event["topic"],
        "data": json.dumps(event["data"], sort_keys=True, separators=(",", ":")),
        "date": occurred.date().isoformat(),
    }


async def _batches(rows: AsyncIterator[dict[str, Any]], size: int) -> AsyncIterator[list[dict]]:
    batch: list[dict[str, Any]] = []
    async for row in rows:
        batch.append(row_of(row))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_jsonl(directory: Path, batch: list[dict[str, Any]], part: int) -> set[Path]:
    written: set[Path] = set()
    handles: dict[Path, Any] = {}
    try:
        for row in batch:
            folder = directory / f"type={row['type']}" / f"date={row['date']}"
            path = folder / f"part-{part:05d}.jsonl"
            if path not in handles:
                folder.mkdir(parents=True, exist_ok=True)
                handles[path] = path.open("a", encoding="utf-8")
            line = {**row, "time": row["time"].isoformat()}
            del line["type"], line["date"]
            handles[path].write(json.dumps(line, separators=(",", ":")) + "\n")
            written.add(path)
    finally:
        for handle in handles.values():
            handle.close()
    return written


async def export_events(
    conn: AsyncConnection,
    out: Path,
    *,
    fmt: ExportFormat = ExportFormat.PARQUET,
    topics: Sequence[str] | None = None,
    types: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch_size: int = 50_000,
) -> ExportResult:
    """Write the chosen events under ``out/events`` (replacing an earlier export there)."""
    directory = out / "events"
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    rows = queries.exported_events(conn, topics=topics, types=types, since=since, until=until)
    count = 0
    files: set[Path] = set()
    async for part, batch in _enumerate(_batches(rows, batch_size)):
        count += len(batch)
        if fmt is ExportFormat.JSONL:
            files |= _write_jsonl(directory, batch, part)
            continue
        import pyarrow as pa
        import pyarrow.dataset as ds

        schema, partitioning = _arrow_layout()
        table = pa.Table.from_pylist(batch, schema=schema)
        ds.write_dataset(
            table,
            directory,
            format="parquet",
            partitioning=partitioning,
            basename_template=f"part-{part:05d}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )
    if fmt is ExportFormat.PARQUET:
        files = set(directory.rglob("*.parquet"))
    return ExportResult(directory, count, len(files))


async def _enumerate(items: AsyncIterator[list[dict]]) -> AsyncIterator[tuple[int, list[dict]]]:
    index = 0
    async for item in items:
        yield index, item
        index += 1

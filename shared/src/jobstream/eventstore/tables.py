"""The events table: the aggregate store and, through ``published_at``, the outbox."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

NOTIFY_CHANNEL = "jobstream_events"


def define_events_table(metadata: MetaData) -> Table:
    """Add the events table to a service's metadata."""
    return Table(
        "events",
        metadata,
        Column("position", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
        Column("stream_id", Text, nullable=False),
        Column("stream_version", Integer, nullable=False),
        # The aggregate the event is about (work order or technician id): the Kafka key
        # and ce_subject. It can differ from stream_id (an invoice stream's events are
        # about a work order), and keying by it keeps one job's events in one partition.
        Column("subject", Text, nullable=False),
        Column("event_type", Text, nullable=False),
        Column("schema_version", Integer, nullable=False),
        Column("topic", Text, nullable=False),
        Column("data", JSONB, nullable=False),
        Column("correlation_id", Text, nullable=True),
        Column("causation_id", Text, nullable=True),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
        # Optimistic concurrency: two writers cannot both append version n of a stream.
        UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
        # The relay's work queue: only unpublished rows, in position order.
        Index(
            "ix_events_unpublished",
            "position",
            postgresql_where=text("published_at IS NULL"),
        ),
    )

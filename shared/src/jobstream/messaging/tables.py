"""Consumer bookkeeping tables: stored offsets, processed event ids, dead letters."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB


def define_consumer_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """Add (consumer_offsets, processed_events, dead_letters) to a service's metadata."""
    offsets = Table(
        "consumer_offsets",
        metadata,
        Column("consumer_group", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("partition", Integer, nullable=False),
        # The offset of the next record to apply (Kafka's committed-offset convention).
        Column("next_offset", BigInteger, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer_group", "topic", "partition", name="pk_consumer_offsets"),
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("consumer_group", Text, nullable=False),
        Column("event_id", Text, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer_group", "event_id", name="pk_processed_events"),
    )
    dead_letters = Table(
        "dead_letters",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("consumer_group", Text, nullable=False),
        Column("topic", Text, nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("event_id", Text, nullable=True),
        Column("event_type", Text, nullable=True),
        Column("error", Text, nullable=False),
        Column("key", LargeBinary, nullable=True),
        Column("value", LargeBinary, nullable=True),
        Column("headers", JSONB, nullable=False),
        Column(
            "dead_lettered_at", DateTime(timezone=True), nullable=False, server_default=func.now()
        ),
        # Set when a re-drive applied the record (or found it applied already).
        Column("redriven_at", DateTime(timezone=True), nullable=True),
        Column("redrive_attempts", Integer, nullable=False, server_default="0"),
    )
    return offsets, processed, dead_letters

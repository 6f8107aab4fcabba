"""Billing's snapshots: a work order's documents, and a job's field facts folded, as JSON.

Two states are loaded as snapshot plus tail (``jobstream.eventstore.snapshots``):

- ``BillingState``, folded from the work order's stream of billing documents in the event
  store, before every decision and payment; its rows are in the write side's ``snapshots``.
- ``JobHistory``, folded from the job's field facts (a projection generation's log of the
  job's field events, numbered by ``seq``), before every pricing; its rows are in the
  generation's own ``snapshots``, so a new generation starts with none and a dropped one
  takes its rows with it.

Bump a codec's ``schema_version`` whenever the shape it writes changes (a field added to the
state among them): rows of the old shape are then not read, and each stream folds once more.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.billing.db import queries
from jobstream.billing.db.tables import history_snapshots, snapshots
from jobstream.billing.domain.documents import BillingState
from jobstream.billing.domain.history import JobHistory, event_time
from jobstream.contracts.base import Event, registry
from jobstream.contracts.billing import InvoiceIssued
from jobstream.eventstore.snapshots import Snapshots, dump_events, load_events
from jobstream.eventstore.store import RecordedEvent


def parse_fact(event_type: str, data: dict[str, Any]) -> Event:
    """A field fact's event, validated by its contract's current version (as stored)."""
    return registry.parse(event_type, registry.current_version(event_type), dict(data))


class FieldFacts:
    """A job's field facts read as a stream: the stream id is the work order, seq its version."""

    async def load(
        self, conn: AsyncConnection, stream_id: str, *, after: int = 0
    ) -> list[RecordedEvent]:
        """The job's field facts after seq ``after``, in log order."""
        recorded = []
        for seq, event_id, event_type, data in await queries.field_facts_after(
            conn, stream_id, after
        ):
            event = parse_fact(event_type, data)
            recorded.append(
                RecordedEvent(
                    position=seq,
                    event_id=event_id,
                    stream_id=stream_id,
                    stream_version=seq,
                    data=event,
                    occurred_at=event_time(event),
                    correlation_id=None,
                    causation_id=None,
                )
            )
        return recorded


class BillingStateCodec:
    """A ``BillingState`` as a snapshot row's state, and back."""

    schema_version = 1

    def dump(self, state: BillingState) -> dict[str, Any]:
        """The state as JSON; the invoices as the events they are, in the order issued."""
        return {
            "invoices": dump_events(list(state.invoices.values())),
            "credited": sorted(state.credited),
            "paid_minor": list(state.paid_minor.items()),
            "current_invoice_id": state.current_invoice_id,
            "triggers": sorted(state.triggers),
        }

    def load(self, data: dict[str, Any]) -> BillingState:
        """The state :meth:`dump` wrote."""
        invoices = [e for e in load_events(data["invoices"]) if isinstance(e, InvoiceIssued)]
        return BillingState(
            invoices={invoice.invoice_id: invoice for invoice in invoices},
            credited=frozenset(data["credited"]),
            paid_minor={invoice_id: amount for invoice_id, amount in data["paid_minor"]},
            current_invoice_id=data["current_invoice_id"],
            triggers=frozenset(data["triggers"]),
        )


_HISTORY = TypeAdapter(JobHistory)


class JobHistoryCodec:
    """A ``JobHistory`` as a snapshot row's state, and back (its dataclasses as JSON)."""

    schema_version = 1

    def dump(self, state: JobHistory) -> Any:
        """The history as JSON."""
        return _HISTORY.dump_python(state, mode="json")

    def load(self, data: Any) -> JobHistory:
        """The history :meth:`dump` wrote."""
        return _HISTORY.validate_python(data)


FIELD_FACTS = FieldFacts()

# A work order's documents are few (an invoice, perhaps a payment, a credit note and its
# replacement per correction): the row is rewritten once the stream is 10 past it, and the
# 256 work orders this process decided last stay resident.
DOCUMENT_SNAPSHOTS = Snapshots(
    snapshots, BillingStateCodec(), kind="billing_documents", every=10, resident=256
)


@cache
def field_history_snapshots(generation: int) -> Snapshots[JobHistory]:
    """The snapshots of jobs' field histories in one generation (resident states its own).

    A job's row is rewritten every 20 facts (a pricing folds at most 19 onto it), and the
    histories of the 256 jobs last priced stay resident: a correction after the outcome then
    reads only itself.
    """
    return Snapshots(
        history_snapshots, JobHistoryCodec(), kind="billing_history", every=20, resident=256
    )

"""Snapshot plus tail is the full fold, for billing's two states (hypothesis).

A job's field facts (time, materials, corrections, completions, incomplete visits, reopens;
by either of two technicians, so a job reassigned mid-way) and a work order's billing
documents (invoices, credit notes, payments): a snapshot at any point, written through the
codec to JSON and read back as PostgreSQL would give it, with the rest folded on, is the
state the whole sequence folds to.
"""

import json
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from jobstream.billing.db.snapshots import BillingStateCodec, JobHistoryCodec
from jobstream.billing.domain.documents import BillingState, evolve
from jobstream.billing.domain.history import JobHistory, fold_history
from jobstream.contracts.billing import (
    CreditNoteIssued,
    InvoiceIssued,
    InvoiceLine,
    InvoicePaid,
    LineKind,
    PricingBasis,
)
from jobstream.contracts.common import Priority
from jobstream.contracts.field import (
    IncompleteReason,
    JobCompleted,
    JobIncomplete,
    JobReopened,
    JobStarted,
    MaterialSource,
    MaterialUsageCorrected,
    MaterialUsed,
    TimeKind,
    TimeLogged,
)

WO = "wo-1"
T0 = datetime(2026, 11, 23, 8, tzinfo=UTC)
times = st.integers(0, 10**12).map(lambda us: T0 + timedelta(microseconds=us))
technicians = st.sampled_from(["t1", "t2"])
entries = st.sampled_from(["m1", "m2", "m3"])
texts = st.text(min_size=1, max_size=12)


def on_device(cls, **values):
    return st.builds(
        cls,
        work_order_id=st.just(WO),
        technician_id=technicians,
        device_time=times,
        received_at=times,
        **values,
    )


JOB = {
    "customer_id": st.just("c-1"),
    "job_type": st.just("boiler"),
    "priority": st.just(Priority.P2),
}
field_events = st.one_of(
    on_device(
        TimeLogged,
        entry_id=st.uuids().map(str),
        kind=st.sampled_from(list(TimeKind)),
        minutes=st.integers(1, 600),
        started_at=st.one_of(st.none(), times),
        ended_at=st.one_of(st.none(), times),
    ),
    on_device(
        MaterialUsed,
        entry_id=entries,
        sku=st.sampled_from(["VALVE-15", "PUMP-CIRC"]),
        description=texts,
        quantity_milli=st.integers(1, 5000),
        source=st.sampled_from(list(MaterialSource)),
        unit_cost_minor=st.one_of(st.none(), st.integers(0, 10**6)),
    ),
    st.builds(
        MaterialUsageCorrected,
        work_order_id=st.just(WO),
        technician_id=technicians,
        entry_id=entries,
        quantity_milli=st.integers(0, 5000),
        reason=texts,
        corrected_by=st.just("office"),
        corrected_at=times,
    ),
    on_device(
        JobCompleted,
        completed_at=times,
        labour_minutes=st.integers(0, 600),
        work_done=texts,
        first_time_fix=st.booleans(),
        **JOB,
    ),
    on_device(
        JobIncomplete,
        ended_at=times,
        reason=st.sampled_from(list(IncompleteReason)),
        labour_minutes=st.integers(0, 600),
        **JOB,
    ),
    st.builds(
        JobReopened,
        work_order_id=st.just(WO),
        technician_id=technicians,
        reason=texts,
        reopened_by=st.just("office"),
        reopened_at=times,
    ),
)


@st.composite
def field_histories(draw):
    """A job's field facts as (event id, event), and a snapshot point (0: none) in them."""
    events = draw(st.lists(field_events, min_size=1, max_size=40))
    facts = [(f"e-{n}", event) for n, event in enumerate(events, start=1)]
    return facts, draw(st.integers(0, len(facts)))


def through(codec, state):
    """What a snapshot row gives back: the codec's JSON, keys reordered as JSONB does."""
    return codec.load(json.loads(json.dumps(codec.dump(state), sort_keys=True)))


@settings(max_examples=400, deadline=None)
@given(field_histories())
def test_a_job_history_snapshot_plus_its_tail_is_the_full_fold(history):
    facts, at = history
    snapshot = through(JobHistoryCodec(), fold_history(facts[:at]))
    resumed = fold_history(facts[at:], snapshot)
    full = fold_history(facts)
    assert resumed == full
    assert resumed.technician_ids == full.technician_ids
    assert resumed.last is not None and resumed.last.event_id == facts[-1][0]


@settings(max_examples=200, deadline=None)
@given(field_histories(), st.data())
def test_a_reopened_and_reassigned_job_folds_the_same_from_its_snapshot(history, data):
    """Completed by one technician, reopened, then ended by the other after the snapshot."""
    facts, at = history
    completed = data.draw(
        on_device(
            JobCompleted,
            completed_at=times,
            labour_minutes=st.integers(0, 600),
            work_done=texts,
            first_time_fix=st.booleans(),
            **JOB,
        )
    )
    reopened = JobReopened(
        work_order_id=WO,
        technician_id=completed.technician_id,
        reason="back",
        reopened_by="office",
        reopened_at=T0,
    )
    other = "t2" if completed.technician_id == "t1" else "t1"
    ended = completed.model_copy(update={"technician_id": other})
    facts = [*facts[:at], ("c-1", completed), ("r-1", reopened), *facts[at:], ("c-2", ended)]
    snapshot = through(JobHistoryCodec(), fold_history(facts[: at + 2]))
    resumed = fold_history(facts[at + 2 :], snapshot)
    assert resumed == fold_history(facts)
    assert resumed.outcome is not None and resumed.outcome.technician_id == other
    assert other in resumed.technician_ids


@settings(max_examples=100, deadline=None)
@given(field_histories())
def test_events_billing_does_not_read_change_no_history(history):
    """Device progress among the facts (a caller that passes a job's whole field stream)."""
    facts, at = history
    started = JobStarted(work_order_id=WO, technician_id="t1", device_time=T0, received_at=T0)
    mixed = [*facts[:at], ("s-1", started), *facts[at:], ("s-2", started)]
    assert fold_history(mixed) == fold_history(facts)


def test_the_history_codec_keeps_every_field():
    dumped = JobHistoryCodec().dump(JobHistory())
    assert set(dumped) == {f.name for f in fields(JobHistory)}, "bump schema_version too"


# ---------------------------------------------------------------------------------------
# a work order's documents

LINE = InvoiceLine(
    kind=LineKind.LABOUR,
    description="Labour",
    quantity_milli=1000,
    unit_price_minor=5500,
    net_minor=5500,
    tax_rate_basis_points=2000,
    tax_minor=1100,
    source_event_ids=("e-1",),
)
invoice_ids = st.sampled_from(["inv-1", "inv-2", "inv-3"])


def invoice(invoice_id: str, trigger: str | None, gross: int) -> InvoiceIssued:
    return InvoiceIssued(
        work_order_id=WO,
        invoice_id=invoice_id,
        invoice_number=f"INV-{invoice_id}",
        customer_id="c-1",
        currency="GBP",
        lines=(LINE,),
        net_total_minor=gross,
        tax_total_minor=0,
        gross_total_minor=gross,
        issued_at=T0,
        due_on=date(2026, 12, 23),
        pricing_basis=(
            PricingBasis(
                trigger_event_id=trigger,
                trigger_type="JobCompleted",
                details_event_id="d-1",
                rate_card_version=1,
            )
            if trigger
            else None
        ),
    )


documents = st.one_of(
    st.builds(
        invoice,
        invoice_ids,
        st.one_of(st.none(), st.sampled_from(["e-1", "e-2", "e-3"])),
        st.integers(0, 10**6),
    ),
    st.builds(
        lambda invoice_id: CreditNoteIssued(
            work_order_id=WO,
            credit_note_id=f"crn-{invoice_id}",
            credit_note_number=f"CRN-{invoice_id}",
            invoice_id=invoice_id,
            customer_id="c-1",
            currency="GBP",
            lines=(LINE,),
            net_total_minor=5500,
            tax_total_minor=1100,
            gross_total_minor=6600,
            reason="Credited in full",
            issued_at=T0,
        ),
        invoice_ids,
    ),
    st.builds(
        lambda invoice_id, amount, at: InvoicePaid(
            work_order_id=WO,
            invoice_id=invoice_id,
            amount_minor=amount,
            currency="GBP",
            paid_at=at,
            recorded_by="office",
        ),
        invoice_ids,
        st.integers(1, 10**6),
        times,
    ),
)


def fold_documents(events, state=None):
    state = state if state is not None else BillingState()
    for event in events:
        state = evolve(state, event)
    return state


@settings(max_examples=300, deadline=None)
@given(st.lists(documents, min_size=1, max_size=20), st.data())
def test_a_work_orders_documents_snapshot_plus_its_tail_is_the_full_fold(events, data):
    at = data.draw(st.integers(0, len(events)))
    snapshot = through(BillingStateCodec(), fold_documents(events[:at]))
    assert fold_documents(events[at:], snapshot) == fold_documents(events)


def test_the_documents_codec_keeps_every_field():
    dumped = BillingStateCodec().dump(BillingState())
    assert set(dumped) == {f.name for f in fields(BillingState)}, "bump schema_version too"

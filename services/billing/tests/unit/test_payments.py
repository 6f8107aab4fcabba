"""Recording a payment: what the command accepts, and what an invoice's state refuses."""

from dataclasses import replace
from datetime import timedelta

import pytest
from factories import TUESDAY_10, config, facts, labour

from jobstream.billing.domain.commands import RecordPayment
from jobstream.billing.domain.documents import (
    BillingState,
    Party,
    build_credit_note,
    build_invoice,
    decide_payment,
    evolve,
)
from jobstream.billing.domain.pricing import price_job
from jobstream.errors import ConflictError, InvalidInputError

PARTY = Party("wo-1", "cust-1", None, "tech-1", None, "Europe/London")
PAID_AT = TUESDAY_10 + timedelta(days=1)


def issued():
    priced = price_job(facts(labour_entries=(labour(75),)), config())
    invoice = build_invoice(priced, PARTY, number=7, issued_at=TUESDAY_10, replaces_invoice_id=None)
    return evolve(BillingState(), invoice), invoice


def payment(**fields):
    values = {"invoice": "INV-000007", "paid_at": PAID_AT, "recorded_by": "u-office", **fields}
    return RecordPayment(**values)


def test_a_payment_pays_what_is_outstanding_unless_it_says_how_much():
    state, invoice = issued()
    paid = decide_payment(state, invoice.invoice_id, payment(reference="BACS 1"))
    assert (paid.amount_minor, paid.currency) == (invoice.gross_total_minor, invoice.currency)
    assert (paid.paid_at, paid.reference, paid.recorded_by) == (PAID_AT, "BACS 1", "u-office")
    part = decide_payment(state, invoice.invoice_id, payment(amount_minor=100))
    assert part.amount_minor == 100


def test_a_paid_or_credited_invoice_refuses_another_payment():
    state, invoice = issued()
    paid = evolve(state, decide_payment(state, invoice.invoice_id, payment()))
    with pytest.raises(ConflictError, match="already paid"):
        decide_payment(paid, invoice.invoice_id, payment())
    credit = build_credit_note(
        invoice, number=1, issued_at=TUESDAY_10, reason="r", replaced_by_invoice_id=None
    )
    with pytest.raises(ConflictError, match="credited"):
        decide_payment(evolve(state, credit), invoice.invoice_id, payment())


def test_too_much_or_too_early_is_refused_naming_the_field():
    state, invoice = issued()
    too_much = payment(amount_minor=invoice.gross_total_minor + 1)
    with pytest.raises(InvalidInputError) as refused:
        decide_payment(state, invoice.invoice_id, too_much)
    assert refused.value.field == "amount_minor"
    early = replace(payment(), paid_at=TUESDAY_10 - timedelta(minutes=1))
    with pytest.raises(InvalidInputError) as refused:
        decide_payment(state, invoice.invoice_id, early)
    assert (refused.value.field, refused.value.message) == (
        "paid_at",
        "paid_at: before the invoice was issued",
    )


def test_a_payment_is_dated_now_unless_it_says_and_never_in_the_future():
    received = {"invoice": "i", "recorded_by": "u", "amount_minor": None, "reference": ""}
    now = RecordPayment.received(PAID_AT, paid_at=None, **received)
    assert now.paid_at == PAID_AT
    skew = RecordPayment.received(PAID_AT, paid_at=PAID_AT + timedelta(seconds=60), **received)
    assert skew.paid_at == PAID_AT + timedelta(seconds=60)
    with pytest.raises(InvalidInputError, match="must not be in the future"):
        RecordPayment.received(PAID_AT, paid_at=PAID_AT + timedelta(minutes=2), **received)

"""Deciding documents: issue once, correct by credit note and replacement, never edit."""

from factories import TUESDAY_10, config, facts, labour, material

from jobstream.billing.domain.documents import (
    BillingState,
    Party,
    build_credit_note,
    build_invoice,
    decide_documents,
    document_number,
    evolve,
)
from jobstream.billing.domain.pricing import NotChargeable, price_job

PARTY = Party("wo-1", "cust-1", None, "tech-1", None, "Europe/London")


def issued_state(priced):
    invoice = build_invoice(priced, PARTY, number=7, issued_at=TUESDAY_10, replaces_invoice_id=None)
    return evolve(BillingState(), invoice), invoice


def test_numbers_are_zero_padded_per_series():
    assert document_number("INV", 42) == "INV-000042"


def test_the_first_trigger_issues_an_invoice_due_after_the_terms():
    priced = price_job(facts(labour_entries=(labour(75),)), config())
    plan = decide_documents(BillingState(), "outcome-1", priced)
    assert plan.invoice == priced and plan.credit is None
    invoice = build_invoice(priced, PARTY, number=1, issued_at=TUESDAY_10, replaces_invoice_id=None)
    assert str(invoice.due_on) == "2026-12-24"


def test_the_same_trigger_again_issues_nothing():
    priced = price_job(facts(labour_entries=(labour(75),)), config())
    state, _ = issued_state(priced)
    assert decide_documents(state, "outcome-1", priced).empty


def test_a_later_trigger_with_the_same_charges_issues_nothing():
    priced = price_job(facts(labour_entries=(labour(75),)), config())
    state, _ = issued_state(priced)
    assert decide_documents(state, "completed-again", priced).empty


def test_a_changed_price_credits_the_invoice_in_full_and_issues_a_replacement():
    before = price_job(facts(labour_entries=(labour(75),), materials=(material(),)), config())
    after = price_job(
        facts(labour_entries=(labour(75),), materials=(material(quantity_milli=0),)), config()
    )
    state, invoice = issued_state(before)
    plan = decide_documents(state, "corrected", after)
    assert plan.credit == invoice and plan.invoice == after
    credit = build_credit_note(
        invoice, number=1, issued_at=TUESDAY_10, reason="r", replaced_by_invoice_id="x"
    )
    state = evolve(state, credit)
    assert state.current is None and invoice.invoice_id in state.credited


def test_an_outcome_no_longer_charged_credits_without_replacement():
    before = price_job(facts(labour_entries=(labour(75),)), config())
    state, invoice = issued_state(before)
    plan = decide_documents(state, "incomplete", NotChargeable("parts"))
    assert plan.credit == invoice and plan.invoice is None

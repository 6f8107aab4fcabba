"""Billing's HTTP commands as types: what a caller asks billing to do.

A route builds the command from the request; ``handlers`` carries it out in one
transaction. A payment is recorded on its work order's stream (``InvoicePaid``); the
pricing commands add configuration versions, which never change once stored (docs/adr/0041).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from jobstream.billing.domain.config import ContractTerms, PriceBookEntry, RateCard
from jobstream.errors import InvalidInputError

# How far apart our clock and a caller's may be: a time this close to now is not "future"
# or "past".
CLOCK_SKEW = timedelta(seconds=60)


def not_before(value: datetime, now: datetime) -> bool:
    """Whether ``value`` is not in the past (a minute's grace for clock skew)."""
    return now - value <= CLOCK_SKEW


def require_not_retroactive(effective_from: datetime, now: datetime) -> None:
    """Refuse a change of configuration that would take effect in the past.

    Raises:
        InvalidInputError: ``effective_from`` is in the past (it would reprice work already
            priced).
    """
    if not not_before(effective_from, now):
        raise InvalidInputError(
            "effective_from: a change cannot take effect in the past "
            "(it would reprice work already priced)",
            field="effective_from",
        )


@dataclass(frozen=True)
class RecordPayment:
    """Record a payment received against an invoice (``InvoicePaid``).

    ``invoice`` is the invoice's id or number; ``amount_minor`` None pays what is
    outstanding.
    """

    invoice: str
    paid_at: datetime
    recorded_by: str
    amount_minor: int | None = None
    reference: str = ""

    @classmethod
    def received(
        cls,
        now: datetime,
        *,
        invoice: str,
        recorded_by: str,
        amount_minor: int | None,
        paid_at: datetime | None,
        reference: str,
    ) -> RecordPayment:
        """The command as received at ``now``: paid now unless it says when, never later.

        Raises:
            InvalidInputError: ``paid_at`` is in the future (beyond the clock skew).
        """
        at = paid_at or now
        if at - now > CLOCK_SKEW:
            raise InvalidInputError("paid_at: must not be in the future", field="paid_at")
        return cls(
            invoice=invoice,
            paid_at=at,
            recorded_by=recorded_by,
            amount_minor=amount_minor,
            reference=reference,
        )


@dataclass(frozen=True)
class AddRateCard:
    """Add a rate card version, effective now or later."""

    rate_card: RateCard
    effective_from: datetime
    note: str = ""


@dataclass(frozen=True)
class AddPriceBookEntry:
    """Add a version of one part's price (a part new to billing may take effect in the past)."""

    sku: str
    entry: PriceBookEntry
    effective_from: datetime


@dataclass(frozen=True)
class AddContractVersion:
    """Add a version of a contract's terms (a contract new to billing may start in the past)."""

    contract_id: str
    terms: ContractTerms
    effective_from: datetime

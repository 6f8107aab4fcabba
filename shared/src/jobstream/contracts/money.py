"""Money as integer minor units with an ISO 4217 currency: never floats."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from jobstream.contracts.base import Contract

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["GBP"])]
MinorUnits = Annotated[int, Field(description="Amount in minor units (pence for GBP)")]


class Money(Contract):
    """An amount of one currency."""

    amount_minor: MinorUnits
    currency: CurrencyCode = "GBP"

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(amount_minor=self.amount_minor + other.amount_minor, currency=self.currency)

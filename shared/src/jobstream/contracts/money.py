"""Money in contracts: integer minor units with an ISO 4217 currency, never floats."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["GBP"])]
MinorUnits = Annotated[int, Field(description="Amount in minor units (pence for GBP)")]

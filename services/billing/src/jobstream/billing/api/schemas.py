"""Request bodies of billing's API."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from jobstream.billing.domain.config import ContractTerms, PriceBookEntry, RateCard


class RecordPayment(BaseModel):
    """A payment received against an invoice."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"amount_minor": 20850, "paid_at": "2026-12-01T10:00:00Z", "reference": "BACS 4471"}
            ]
        },
    )

    amount_minor: Annotated[int, Field(gt=0, le=10**11)] | None = Field(
        default=None, description="Defaults to the amount outstanding"
    )
    paid_at: AwareDatetime | None = Field(default=None, description="Defaults to now")
    reference: Annotated[str, Field(max_length=200)] = ""


class NewRateCard(BaseModel):
    """A new rate card version."""

    model_config = ConfigDict(extra="forbid")

    effective_from: AwareDatetime
    rate_card: RateCard
    note: Annotated[str, Field(max_length=500)] = ""


class NewPriceBookEntry(BaseModel):
    """A new version of one part's price."""

    model_config = ConfigDict(extra="forbid")

    effective_from: AwareDatetime
    entry: PriceBookEntry


class NewContractVersion(BaseModel):
    """A new version of a customer contract's terms."""

    model_config = ConfigDict(extra="forbid")

    effective_from: AwareDatetime
    terms: ContractTerms

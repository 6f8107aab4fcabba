"""Billing's settings (env prefix BILLING_), built by get_settings(), never at import."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from pydantic_settings import BaseSettings, SettingsConfigDict

Line = Annotated[str, StringConstraints(max_length=200)]


class BillingSettings(BaseSettings):
    """Who issues the documents: what a UK VAT invoice must name about the seller.

    The defaults describe a made-up demo business; a deployment sets its own. None of it is
    secret (it is printed on every invoice).
    """

    model_config = SettingsConfigDict(env_prefix="BILLING_", extra="ignore")

    seller_name: Line = Field(
        default="Jobstream Demo Heating & Electrical Ltd",
        description="The seller's legal name, printed at the top of every document.",
    )
    seller_address: tuple[Line, ...] = Field(
        default=("Unit 4, Example Trade Park", "Anytown", "AB1 2CD", "United Kingdom"),
        max_length=8,
        description='The seller\'s address lines, as a JSON list (["Unit 4", "Leeds"]).',
    )
    seller_vat_number: Line = Field(
        default="GB 123 4567 89",
        description="The seller's VAT registration number (a VAT invoice must show it).",
    )
    seller_company_number: Line = Field(
        default="01234567", description="Companies House number; empty to leave it off."
    )
    seller_email: Line = Field(
        default="accounts@example.com", description="Where customers write about invoices."
    )
    seller_phone: Line = Field(default="0113 496 0000", description="The accounts phone line.")
    payment_instructions: tuple[Line, ...] = Field(
        default=(
            "Pay by bank transfer to Jobstream Demo Heating & Electrical Ltd",
            "Sort code 00-00-00, account 00000000",
            "Quote the invoice number as the payment reference",
        ),
        max_length=8,
        description="How to pay, printed under the totals of an invoice (JSON list of lines).",
    )


def get_settings() -> BillingSettings:
    """Settings from the environment, read when called."""
    return BillingSettings()

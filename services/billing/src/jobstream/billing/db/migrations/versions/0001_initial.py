"""Billing's write side: event store, number series, pricing versions, generations.

The projection tables are not migrated here: each projection generation's schema is
created from the models by the rebuild (docs/adr/0043). The seed pricing below is a frozen
copy (version 1, effective from 2000-01-01) so this migration always means the same.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from jobstream import migration_ops

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SEED_EFFECTIVE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
SEED_RATE_CARD = {
    "currency": "GBP",
    "labour_rate_per_hour_by_level": {"1": 4500, "2": 5500, "3": 6500, "4": 7500, "5": 9000},
    "default_skill_level": 3,
    "labour_increment_minutes": 15,
    "call_out_fee_by_priority": {"P1": 12000, "P2": 8000, "P3": 5000, "P4": 0},
    "business_hours": {"weekdays": [0, 1, 2, 3, 4], "start": "08:00:00", "end": "18:00:00"},
    "out_of_hours_multiplier_bp": 15000,
    "overtime_multiplier_bp": 12500,
    "minimum_charge_net_minor": 9500,
    "tax_rate_bp": 2000,
    "payment_terms_days": 30,
    "charge_incomplete_reasons": ["no_access", "customer_cancelled"],
    "bought_in_markup_bp": 2500,
}
SEED_PRICE_BOOK = {
    "VALVE-15": {
        "description": "15 mm isolating valve",
        "pricing": "fixed",
        "unit_price_minor": 1250,
    },
    "TRV-15": {
        "description": "Thermostatic radiator valve",
        "pricing": "fixed",
        "unit_price_minor": 2400,
    },
    "DIVERTER-VALVE": {
        "description": "Combi boiler diverter valve",
        "pricing": "fixed",
        "unit_price_minor": 6800,
    },
    "FILTER-MAG": {
        "description": "Magnetic system filter",
        "pricing": "fixed",
        "unit_price_minor": 14500,
    },
    "INHIBITOR-1L": {
        "description": "Central heating inhibitor, 1 l",
        "pricing": "fixed",
        "unit_price_minor": 1800,
    },
    "PUMP-CIRC": {
        "description": "Central heating circulating pump",
        "pricing": "cost_plus",
        "unit_cost_minor": 9500,
        "markup_bp": 3000,
    },
    "PTFE-TAPE": {"description": "PTFE thread tape", "pricing": "fixed", "unit_price_minor": 150},
    "COPPER-15-M": {
        "description": "15 mm copper pipe, per metre",
        "pricing": "fixed",
        "unit_price_minor": 650,
    },
    "FUSE-13A": {"description": "13 A cartridge fuse", "pricing": "fixed", "unit_price_minor": 120},
    "MCB-32A": {
        "description": "32 A miniature circuit breaker",
        "pricing": "fixed",
        "unit_price_minor": 1450,
    },
    "RCD-63A": {
        "description": "63 A residual current device",
        "pricing": "fixed",
        "unit_price_minor": 6500,
    },
    "AHU-FILTER-G4": {
        "description": "Air handling unit panel filter, G4",
        "pricing": "fixed",
        "unit_price_minor": 3200,
    },
    "REFRIGERANT-R32-KG": {
        "description": "R32 refrigerant, per kg",
        "pricing": "cost_plus",
        "unit_cost_minor": 4500,
        "markup_bp": 4000,
    },
    "PIPE-INSULATION-22": {
        "description": "22 mm pipe insulation (energy-saving material)",
        "pricing": "fixed",
        "unit_price_minor": 300,
        "tax_rate_bp": 0,
    },
}


def upgrade() -> None:
    migration_ops.create_events_table(op)
    migration_ops.create_idempotency_table(op)
    op.create_table(
        "document_series",
        sa.Column("series", sa.Text(), primary_key=True),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
    )
    rate_cards = op.create_table(
        "rate_cards",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False, unique=True),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    price_book = op.create_table(
        "price_book",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("sku", "version", name="pk_price_book"),
        sa.UniqueConstraint("sku", "effective_from", name="uq_price_book_sku_effective_from"),
    )
    op.create_table(
        "contracts",
        sa.Column("contract_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("contract_id", "version", name="pk_contracts"),
        sa.UniqueConstraint("contract_id", "effective_from", name="uq_contracts_effective_from"),
    )
    op.create_table(
        "projection_generations",
        sa.Column("generation", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("schema_name", sa.Text(), nullable=False, unique=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", postgresql.JSONB(), nullable=True),
    )
    op.create_index(
        "uq_projection_generations_one_active",
        "projection_generations",
        ["state"],
        unique=True,
        postgresql_where=sa.text("state = 'active'"),
    )
    op.bulk_insert(
        rate_cards,
        [
            {
                "version": 1,
                "effective_from": SEED_EFFECTIVE_FROM,
                "document": SEED_RATE_CARD,
                "note": "seed: default rate card",
            }
        ],
    )
    op.bulk_insert(
        price_book,
        [
            {"sku": sku, "version": 1, "effective_from": SEED_EFFECTIVE_FROM, "document": doc}
            for sku, doc in SEED_PRICE_BOOK.items()
        ],
    )


def downgrade() -> None:
    for table in (
        "projection_generations",
        "contracts",
        "price_book",
        "rate_cards",
        "document_series",
        "idempotency_keys",
    ):
        op.drop_table(table)
    op.drop_table("events")

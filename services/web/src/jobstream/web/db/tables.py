"""The front door's tables: accounts, their sessions, what was done to them, OpenID sign-ins.

The OpenID sign-ins are those under way. Accounts are not business events and never reach
the log (ADR 0072).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", sa.Text(), primary_key=True),
    sa.Column("username", sa.Text(), nullable=False, unique=True),
    sa.Column("display_name", sa.Text(), nullable=False),
    sa.Column("role", sa.Text(), nullable=False),
    sa.Column("technician_id", sa.Text()),
    sa.Column("customer_id", sa.Text()),
    sa.Column("email", sa.Text()),
    # NULL for accounts that sign in through the OpenID provider only.
    sa.Column("password_hash", sa.Text()),
    sa.Column("source", sa.Text(), nullable=False, server_default="local"),
    sa.Column("oidc_issuer", sa.Text()),
    sa.Column("oidc_subject", sa.Text()),
    sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("failed_sign_ins", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),
    sa.Column("disabled_reason", sa.Text()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("password_changed_at", sa.DateTime(timezone=True)),
    sa.Column("last_sign_in_at", sa.DateTime(timezone=True)),
    # Bumped by every change an admin makes: two admins editing at once get a conflict.
    sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    sa.UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_accounts_oidc_identity"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    # SHA-256 of the cookie's value: a copy of this table signs nobody in.
    sa.Column("session_hash", sa.Text(), primary_key=True),
    sa.Column(
        "account_id",
        sa.Text(),
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("csrf_token", sa.Text(), nullable=False),
    sa.Column("method", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("client", sa.Text()),
    sa.Column("user_agent", sa.Text()),
    # For RP-initiated sign-out at the provider.
    sa.Column("id_token_hint", sa.Text()),
)

account_audit = sa.Table(
    "account_audit",
    metadata,
    sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
    sa.Column("account_id", sa.Text(), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("by", sa.Text(), nullable=False),
    sa.Column("action", sa.Text(), nullable=False),
    sa.Column("detail", postgresql.JSONB(), nullable=False, server_default="{}"),
)

oidc_pending = sa.Table(
    "oidc_pending",
    metadata,
    sa.Column("state", sa.Text(), primary_key=True),
    sa.Column("code_verifier", sa.Text(), nullable=False),
    sa.Column("nonce", sa.Text(), nullable=False),
    sa.Column("next", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

"""Demo accounts for every role, bound to the demo data's technicians and customers.

`make up` seeds them; never use these passwords outside a demo.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobstream.auth import Role
from jobstream.web import handlers
from jobstream.web.db import queries
from jobstream.web.domain.commands import CreateAccount


@dataclass(frozen=True)
class DemoAccount:
    """One demo sign-in."""

    username: str
    name: str
    role: Role
    password: str
    technician_id: str | None = None
    customer_id: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount("olivia.admin", "Olivia Office", Role.ADMIN, "demo-admin-pass"),
    DemoAccount("dan.dispatch", "Dan Dispatcher", Role.DISPATCHER, "demo-dispatch-pass"),
    DemoAccount(
        "amir.tech",
        "Amir Patel",
        Role.TECHNICIAN,
        "demo-technician-pass",
        technician_id="tech-amir",
    ),
    DemoAccount(
        "priya.customer",
        "Priya Shah",
        Role.CUSTOMER,
        "demo-customer-pass",
        customer_id="cust-deansgate-dental",
    ),
    DemoAccount("ana.analyst", "Ana Analyst", Role.ANALYST, "demo-analyst-pass"),
)


async def seed(ctx: handlers.Context) -> list[tuple[DemoAccount, bool]]:
    """Create the demo accounts that do not exist yet; (account, created) for each."""
    out: list[tuple[DemoAccount, bool]] = []
    for demo in DEMO_ACCOUNTS:
        async with ctx.engine.connect() as conn:
            exists = await queries.account_by_username(conn, demo.username) is not None
        if not exists:
            await handlers.create_account(
                CreateAccount(
                    username=demo.username,
                    display_name=demo.name,
                    role=demo.role,
                    password=demo.password,
                    by="demo",
                    technician_id=demo.technician_id,
                    customer_id=demo.customer_id,
                    must_change_password=False,
                ),
                ctx,
            )
        out.append((demo, not exists))
    return out

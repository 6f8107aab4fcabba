"""Intake's command handlers: resolve records, load, fold, decide, append, project.

All in the caller's one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.commands import CommandHandlers
from jobstream.contracts.base import Event
from jobstream.contracts.common import (
    AssetInfo,
    Contact,
    GeoPoint,
    SiteAddress,
)
from jobstream.errors import NotFoundError
from jobstream.eventstore.store import ConcurrencyError, EventStore, RecordedEvent
from jobstream.intake import projections
from jobstream.intake.config import IntakeSettings
from jobstream.intake.db import queries
from jobstream.intake.db.tables import assets, contacts, customers, service_contracts, sites
from jobstream.intake.domain.commands import (
    Cancel,
    ChangeDetails,
    ChangePriority,
    DecideApproval,
    LinkDuplicate,
    LogRequest,
    RateVisit,
    Release,
    RequestApproval,
    WorkOrderCommand,
)
from jobstream.intake.domain.duplicates import OpenRequest, most_similar_open_request
from jobstream.intake.domain.sla import STANDARD_TERMS, SlaError, SlaTerms, terms_from_record
from jobstream.intake.domain.work_order import (
    DomainError,
    DuplicateCandidate,
    Facts,
    RequestRecords,
    WorkOrder,
    decide_approval,
    decide_cancel,
    decide_change_details,
    decide_change_priority,
    decide_link_duplicate,
    decide_log_request,
    decide_rate_visit,
    decide_release,
    decide_request_approval,
    evolve,
)


@dataclass(frozen=True)
class Context:
    """What a command handler works with: the caller's one transaction, the store, settings."""

    conn: AsyncConnection
    store: EventStore
    settings: IntakeSettings


@dataclass(frozen=True)
class Cause:
    """The event a derived command answers (a follow-up, an email).

    For the trace, and for event ids derived from it so that a redelivery appends nothing twice.
    """

    correlation_id: str | None
    causation_id: str
    event_ids: Sequence[str]


@dataclass(frozen=True)
class Outcome:
    """What a command did: the work order after it, its version and the new events."""

    state: WorkOrder
    version: int
    recorded: list[RecordedEvent]


async def execute(
    ctx: Context,
    work_order_id: str,
    decide: Callable[[WorkOrder], Sequence[Event]],
    *,
    expected_version: int | None = None,
    cause: Cause | None = None,
    occurred_at: datetime | None = None,
    new_stream: bool = False,
) -> Outcome:
    """Load and fold the stream, decide, append with the expected version, project.

    ``new_stream``: the caller made the id up just now, so there is nothing to load (the
    append still refuses, as a concurrent edit, a stream that exists after all).
    """
    if new_stream:
        state, version = WorkOrder(work_order_id), 0
    else:
        state, version = await ctx.store.fold(
            ctx.conn, work_order_id, WorkOrder(work_order_id), evolve
        )
    if expected_version is not None and expected_version != version:
        # The caller edited what it saw at ``expected_version``: someone changed it since.
        raise ConcurrencyError(work_order_id, expected_version, version)
    new_events = list(decide(state))
    recorded = await ctx.store.append(
        ctx.conn,
        work_order_id,
        version,
        new_events,
        correlation_id=cause.correlation_id if cause else None,
        causation_id=cause.causation_id if cause else None,
        event_ids=cause.event_ids[: len(new_events)] if cause else None,
        occurred_at=occurred_at,
    )
    for event in recorded:
        state = evolve(state, event.data)
        await projections.project(ctx.conn, event, state)
    return Outcome(state, recorded[-1].stream_version if recorded else version, recorded)


# -- logging ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestContext:
    """The records a request names, checked to belong together."""

    customer: dict[str, Any]
    site: SiteAddress
    asset: AssetInfo | None
    contact: Contact | None
    contract_id: str | None
    terms: SlaTerms
    access_instructions: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def site_address(row: Mapping[str, Any]) -> SiteAddress:
    """A site record as the events carry it."""
    return SiteAddress(
        site_id=row["site_id"],
        address=row["address"],
        location=GeoPoint(lat=row["lat"], lon=row["lon"]),
        time_zone=row["time_zone"],
    )


def asset_info(row: Mapping[str, Any]) -> AssetInfo:
    """An asset record as the events carry it."""
    return AssetInfo(
        asset_id=row["asset_id"],
        asset_type=row["asset_type"],
        make=row["make"],
        model=row["model"],
        serial_number=row["serial_number"],
        installed_on=row["installed_on"],
    )


def contract_terms(row: Mapping[str, Any]) -> SlaTerms:
    """A stored contract's SLA terms."""
    return terms_from_record(row["targets"], row["business_hours"], row["holidays"])


async def resolve_context(
    conn: AsyncConnection,
    *,
    customer_id: str,
    site_id: str,
    asset_id: str | None = None,
    contact_id: str | None = None,
    contract_id: str | None = None,
    at: datetime,
) -> RequestContext:
    """Load and cross-check the customer, site, asset, contact and contract of a request."""
    customer = await queries.get_record(conn, customers, customer_id)
    if customer is None:
        raise DomainError(f"no customer {customer_id}", field="customer_id")
    site = await queries.get_record(conn, sites, site_id)
    if site is None or site["customer_id"] != customer_id:
        raise DomainError(f"customer {customer_id} has no site {site_id}", field="site_id")
    asset = None
    if asset_id is not None:
        row = await queries.get_record(conn, assets, asset_id)
        if row is None or row["site_id"] != site_id:
            raise DomainError(f"site {site_id} has no asset {asset_id}", field="asset_id")
        asset = asset_info(row)
    contact = None
    if contact_id is not None:
        row = await queries.get_record(conn, contacts, contact_id)
        if row is None or row["customer_id"] != customer_id:
            raise DomainError(
                f"customer {customer_id} has no contact {contact_id}", field="contact_id"
            )
        contact = Contact(name=row["name"], phone=row["phone"], email=row["email"])
    chosen, terms = await _contract(conn, customer_id, site_id, contract_id, at)
    return RequestContext(
        customer=customer,
        site=site_address(site),
        asset=asset,
        contact=contact,
        contract_id=chosen,
        terms=terms,
        access_instructions=site["access_instructions"],
    )


async def _contract(
    conn: AsyncConnection, customer_id: str, site_id: str, contract_id: str | None, at: datetime
) -> tuple[str | None, SlaTerms]:
    """The named contract, else the customer's best one for the site, else standard terms."""
    valid = await queries.contracts_for(conn, customer_id, at.date())
    covering = [c for c in valid if not c["site_ids"] or site_id in c["site_ids"]]
    if contract_id is not None:
        match = next((c for c in covering if c["contract_id"] == contract_id), None)
        if match is None:
            raise DomainError(
                f"contract {contract_id} does not cover site {site_id} of customer "
                f"{customer_id} on {at.date()}",
                field="contract_id",
            )
        return contract_id, contract_terms(match)
    if not covering:
        return None, STANDARD_TERMS
    # A contract naming the site beats one for all sites; then the newest.
    best = sorted(covering, key=lambda c: (not c["site_ids"],))[0]
    return best["contract_id"], contract_terms(best)


async def log_request(
    cmd: LogRequest, ctx: Context, *, cause: Cause | None = None, new_stream: bool = False
) -> Outcome:
    """Log a request from any channel: RequestLogged, and PossibleDuplicateFlagged if apt.

    ``cause``: the event this request derives from (its id makes the events' ids);
    ``new_stream`` when ``cmd.work_order_id`` was freshly made up (see ``execute``).
    """
    found = await resolve_context(
        ctx.conn,
        customer_id=cmd.customer_id,
        site_id=cmd.site_id,
        asset_id=cmd.asset_id,
        contact_id=cmd.contact_id,
        contract_id=cmd.contract_id,
        at=cmd.logged_at,
    )
    candidates = [
        OpenRequest(**row) for row in await queries.open_requests_at(ctx.conn, cmd.site_id)
    ]
    similar = most_similar_open_request(
        cmd.site_id,
        cmd.asset_id,
        cmd.description,
        candidates,
        threshold=ctx.settings.duplicate_threshold,
    )
    duplicate = DuplicateCandidate(similar[0].work_order_id, similar[1]) if similar else None
    records = RequestRecords(
        customer_name=found.customer["name"],
        site=found.site,
        terms=found.terms,
        asset=found.asset,
        contact=found.contact,
        contract_id=found.contract_id,
    )
    try:
        return await execute(
            ctx,
            cmd.work_order_id,
            lambda state: decide_log_request(state, cmd, records, duplicate),
            cause=cause,
            occurred_at=cmd.logged_at if cause else None,
            new_stream=new_stream,
        )
    except SlaError as exc:
        raise DomainError(str(exc), field="contract_id") from exc


# -- commands on an existing work order --------------------------------------------------


@dataclass(frozen=True)
class ReadModelFacts:
    """What the read model knows of a work order beyond its stream."""

    customer_id: str
    site_id: str
    contract: Mapping[str, Any] | None
    decision: Facts


async def _facts(ctx: Context, work_order_id: str) -> ReadModelFacts:
    row = await queries.get_work_order(ctx.conn, work_order_id)
    if row is None:
        raise NotFoundError(f"no work order {work_order_id}")
    site = await queries.get_record(ctx.conn, sites, row["site_id"])
    contract = (
        await queries.get_record(ctx.conn, service_contracts, row["contract_id"])
        if row["contract_id"]
        else None
    )
    finished = row["completed_at"] is not None
    decision = Facts(
        terms=contract_terms(contract) if contract else STANDARD_TERMS,
        site_access=site["access_instructions"] if site else "",
        value_limit_minor=ctx.settings.approval_value_limit_minor,
        closed_by_field=finished,
        # The field's last word was "completed" (not incomplete, not reopened since).
        completed_by_field=finished and row["outcome"] == "completed",
        technician_id=row["technician_id"],
    )
    return ReadModelFacts(row["customer_id"], row["site_id"], contract, decision)


async def _decided(
    ctx: Context, cmd: WorkOrderCommand, decide: Callable[[WorkOrder, Facts], Sequence[Event]]
) -> Outcome:
    """Run a decider on the work order ``cmd`` names, with the read model's facts."""
    facts = await _facts(ctx, cmd.work_order_id)
    return await execute(
        ctx,
        cmd.work_order_id,
        lambda state: decide(state, facts.decision),
        expected_version=cmd.expected_version,
    )


async def change_details(cmd: ChangeDetails, ctx: Context) -> Outcome:
    """Draft the details before release, amend them after."""
    facts = await _facts(ctx, cmd.work_order_id)
    resolved = dict(cmd.changes)
    if "asset_id" in resolved:
        resolved["asset"] = await _asset_of(ctx.conn, facts.site_id, resolved.pop("asset_id"))
    if "contact_id" in resolved:
        resolved["contact"] = await _contact_of(
            ctx.conn, facts.customer_id, resolved.pop("contact_id")
        )
    with_records = replace(cmd, changes=resolved)
    return await execute(
        ctx,
        cmd.work_order_id,
        lambda state: decide_change_details(state, with_records, facts.decision),
        expected_version=cmd.expected_version,
    )


async def _asset_of(conn: AsyncConnection, site_id: str, asset_id: str | None) -> AssetInfo | None:
    """The asset at the work order's site, as the details carry it (None: no asset)."""
    if asset_id is None:
        return None
    asset = await queries.get_record(conn, assets, asset_id)
    if asset is None or asset["site_id"] != site_id:
        raise DomainError(f"the work order's site has no asset {asset_id}", field="asset_id")
    return asset_info(asset)


async def _contact_of(
    conn: AsyncConnection, customer_id: str, contact_id: str | None
) -> Contact | None:
    if contact_id is None:
        return None
    row = await queries.get_record(conn, contacts, contact_id)
    if row is None or row["customer_id"] != customer_id:
        raise DomainError(f"customer {customer_id} has no contact {contact_id}", field="contact_id")
    return Contact(name=row["name"], phone=row["phone"], email=row["email"])


async def change_priority(cmd: ChangePriority, ctx: Context) -> Outcome:
    """New priority and deadlines (and an amendment if already released)."""
    return await _decided(ctx, cmd, lambda state, facts: decide_change_priority(state, cmd, facts))


async def request_approval(cmd: RequestApproval, ctx: Context) -> Outcome:
    """ApprovalRequested."""
    return await _decided(ctx, cmd, lambda state, facts: decide_request_approval(state, cmd, facts))


async def decide_on_approval(cmd: DecideApproval, ctx: Context) -> Outcome:
    """WorkOrderApproved or WorkOrderRejected."""
    return await _decided(ctx, cmd, lambda state, facts: decide_approval(state, cmd, facts))


async def release(cmd: Release, ctx: Context) -> Outcome:
    """WorkOrderReleased with the whole details."""
    return await _decided(ctx, cmd, lambda state, facts: decide_release(state, cmd, facts))


async def cancel(cmd: Cancel, ctx: Context) -> Outcome:
    """WorkOrderCancelled."""
    return await _decided(ctx, cmd, lambda state, facts: decide_cancel(state, cmd, facts))


async def link_duplicate(cmd: LinkDuplicate, ctx: Context) -> Outcome:
    """DuplicateLinked, to a request of the same customer."""
    facts = await _facts(ctx, cmd.work_order_id)
    other = await queries.get_work_order(ctx.conn, cmd.duplicate_of)
    if other is None or other["customer_id"] != facts.customer_id:
        raise DomainError(
            f"{cmd.duplicate_of} is not a request of the same customer", field="duplicate_of"
        )
    return await execute(
        ctx,
        cmd.work_order_id,
        lambda state: decide_link_duplicate(state, cmd, facts.decision),
        expected_version=cmd.expected_version,
    )


async def rate_visit(cmd: RateVisit, ctx: Context) -> Outcome:
    """VisitRated: the customer's own work order, once the field completed it."""
    facts = await _facts(ctx, cmd.work_order_id)
    if facts.customer_id != cmd.customer_id:
        # Another customer's work order is as unknown as one that does not exist.
        raise NotFoundError(f"no work order {cmd.work_order_id}")
    return await execute(
        ctx,
        cmd.work_order_id,
        lambda state: decide_rate_visit(state, cmd, facts.decision),
        expected_version=cmd.expected_version,
    )


# Each command type's handler; ``handle(cmd, ctx)`` runs the one for ``type(cmd)``.
HANDLERS = CommandHandlers(
    log_request,
    change_details,
    change_priority,
    request_approval,
    decide_on_approval,
    release,
    cancel,
    link_duplicate,
    rate_visit,
)


async def handle(cmd: LogRequest | WorkOrderCommand, ctx: Context) -> Outcome:
    """Run ``cmd`` with the handler registered for its type."""
    outcome: Outcome = await HANDLERS.handle(cmd, ctx)
    return outcome

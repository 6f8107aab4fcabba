"""Intake's command handlers: resolve records, load, fold, decide, append, project — all in the
caller's one transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import Event
from jobstream.contracts.common import (
    AssetInfo,
    AttachmentRef,
    Channel,
    Contact,
    GeoPoint,
    Priority,
    SiteAddress,
)
from jobstream.eventstore.store import ConcurrencyError, EventStore, RecordedEvent
from jobstream.intake import projections
from jobstream.intake.config import IntakeSettings
from jobstream.intake.db import queries
from jobstream.intake.db.tables import assets, contacts, customers, service_contracts, sites
from jobstream.intake.domain.duplicates import OpenRequest, most_similar_open_request
from jobstream.intake.domain.sla import STANDARD_TERMS, SlaError, SlaTerms, terms_from_record
from jobstream.intake.domain.work_order import (
    Cancel,
    ChangeDetails,
    ChangePriority,
    DecideApproval,
    DomainError,
    DuplicateCandidate,
    LinkDuplicate,
    LogRequest,
    RateVisit,
    Release,
    RequestApproval,
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


class NotFound(LookupError):
    """The work order (or record) does not exist (→ 404)."""


@dataclass(frozen=True)
class Outcome:
    """What a command did: the work order after it, its version and the new events."""

    state: WorkOrder
    version: int
    recorded: list[RecordedEvent]


async def execute(
    conn: AsyncConnection,
    store: EventStore,
    work_order_id: str,
    decide: Callable[[WorkOrder], Sequence[Event]],
    *,
    expected_version: int | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_ids: Sequence[str] | None = None,
    occurred_at: datetime | None = None,
    new_stream: bool = False,
) -> Outcome:
    """Load and fold the stream, decide, append with the expected version, project.

    ``new_stream``: the caller made the id up just now, so there is nothing to load (the
    append still refuses, as a concurrent edit, a stream that exists after all)."""
    if new_stream:
        state, version = WorkOrder(work_order_id), 0
    else:
        state, version = await store.fold(conn, work_order_id, WorkOrder(work_order_id), evolve)
    if expected_version is not None and expected_version != version:
        # The caller edited what it saw at ``expected_version``: someone changed it since.
        raise ConcurrencyError(work_order_id, expected_version, version)
    new_events = list(decide(state))
    recorded = await store.append(
        conn,
        work_order_id,
        version,
        new_events,
        correlation_id=correlation_id,
        causation_id=causation_id,
        event_ids=event_ids[: len(new_events)] if event_ids else None,
        occurred_at=occurred_at,
    )
    for event in recorded:
        state = evolve(state, event.data)
        await projections.project(conn, event, state)
    return Outcome(state, recorded[-1].stream_version if recorded else version, recorded)


# -- logging ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewRequest:
    """A request as a channel hands it over: ids of records, not their contents."""

    work_order_id: str
    customer_id: str
    site_id: str
    channel: Channel
    description: str
    priority: Priority
    logged_by: str
    logged_at: datetime
    asset_id: str | None = None
    contact_id: str | None = None
    contract_id: str | None = None
    job_type: str | None = None
    external_reference: str | None = None
    follow_up_of: str | None = None
    maintenance_plan_id: str | None = None
    attachments: tuple[AttachmentRef, ...] = ()


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
        asset = AssetInfo(
            asset_id=row["asset_id"],
            asset_type=row["asset_type"],
            make=row["make"],
            model=row["model"],
            serial_number=row["serial_number"],
            installed_on=row["installed_on"],
        )
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
    conn: AsyncConnection,
    store: EventStore,
    settings: IntakeSettings,
    request: NewRequest,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_ids: Sequence[str] | None = None,
    new_stream: bool = False,
) -> Outcome:
    """Log a request from any channel: RequestLogged, and PossibleDuplicateFlagged if apt.
    ``new_stream`` when ``request.work_order_id`` was freshly made up (see ``execute``)."""
    ctx = await resolve_context(
        conn,
        customer_id=request.customer_id,
        site_id=request.site_id,
        asset_id=request.asset_id,
        contact_id=request.contact_id,
        contract_id=request.contract_id,
        at=request.logged_at,
    )
    candidates = [
        OpenRequest(**row) for row in await queries.open_requests_at(conn, request.site_id)
    ]
    found = most_similar_open_request(
        request.site_id,
        request.asset_id,
        request.description,
        candidates,
        threshold=settings.duplicate_threshold,
    )
    duplicate = DuplicateCandidate(found[0].work_order_id, found[1]) if found else None
    cmd = LogRequest(
        work_order_id=request.work_order_id,
        customer_id=request.customer_id,
        customer_name=ctx.customer["name"],
        site=ctx.site,
        channel=request.channel,
        description=request.description,
        priority=request.priority,
        logged_by=request.logged_by,
        logged_at=request.logged_at,
        terms=ctx.terms,
        asset=ctx.asset,
        contact=ctx.contact,
        contract_id=ctx.contract_id,
        job_type=request.job_type,
        external_reference=request.external_reference,
        follow_up_of=request.follow_up_of,
        maintenance_plan_id=request.maintenance_plan_id,
        attachments=request.attachments,
    )
    try:
        return await execute(
            conn,
            store,
            request.work_order_id,
            lambda state: decide_log_request(state, cmd, duplicate),
            correlation_id=correlation_id,
            causation_id=causation_id,
            event_ids=event_ids,
            occurred_at=request.logged_at if causation_id else None,
            new_stream=new_stream,
        )
    except SlaError as exc:
        raise DomainError(str(exc), field="contract_id") from exc


# -- commands on an existing work order --------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What the handler knows beyond the stream: from the read model and the records."""

    closed_by_field: bool
    site_access: str
    customer_id: str
    contract: Mapping[str, Any] | None
    # The field's last word was "completed" (not incomplete, not reopened since), and by whom.
    completed_by_field: bool = False
    technician_id: str | None = None


async def _facts(conn: AsyncConnection, work_order_id: str) -> Facts:
    row = await queries.get_work_order(conn, work_order_id)
    if row is None:
        raise NotFound(f"no work order {work_order_id}")
    site = await queries.get_record(conn, sites, row["site_id"])
    contract = (
        await queries.get_record(conn, service_contracts, row["contract_id"])
        if row["contract_id"]
        else None
    )
    return Facts(
        closed_by_field=row["completed_at"] is not None,
        site_access=site["access_instructions"] if site else "",
        customer_id=row["customer_id"],
        contract=contract,
        completed_by_field=row["completed_at"] is not None and row["outcome"] == "completed",
        technician_id=row["technician_id"],
    )


async def change_details(
    conn: AsyncConnection,
    store: EventStore,
    work_order_id: str,
    changes: Mapping[str, Any],
    *,
    by: str,
    at: datetime,
    reason: str = "",
    expected_version: int | None = None,
) -> Outcome:
    """Draft the details before release, amend them after."""
    facts = await _facts(conn, work_order_id)
    resolved = dict(changes)
    if "asset_id" in resolved:
        resolved["asset"] = await _asset_of(conn, work_order_id, resolved.pop("asset_id"))
    if "contact_id" in resolved:
        resolved["contact"] = await _contact_of(conn, facts.customer_id, resolved.pop("contact_id"))
    cmd = ChangeDetails(
        changes=resolved,
        changed_by=by,
        changed_at=at,
        reason=reason,
        site_access=facts.site_access,
        closed_by_field=facts.closed_by_field,
    )
    return await execute(
        conn,
        store,
        work_order_id,
        lambda s: decide_change_details(s, cmd),
        expected_version=expected_version,
    )


async def _asset_of(
    conn: AsyncConnection, work_order_id: str, asset_id: str | None
) -> AssetInfo | None:
    if asset_id is None:
        return None
    row = await queries.get_work_order(conn, work_order_id)
    asset = await queries.get_record(conn, assets, asset_id)
    if asset is None or row is None or asset["site_id"] != row["site_id"]:
        raise DomainError(f"the work order's site has no asset {asset_id}", field="asset_id")
    return AssetInfo(
        asset_id=asset["asset_id"],
        asset_type=asset["asset_type"],
        make=asset["make"],
        model=asset["model"],
        serial_number=asset["serial_number"],
        installed_on=asset["installed_on"],
    )


async def _contact_of(
    conn: AsyncConnection, customer_id: str, contact_id: str | None
) -> Contact | None:
    if contact_id is None:
        return None
    row = await queries.get_record(conn, contacts, contact_id)
    if row is None or row["customer_id"] != customer_id:
        raise DomainError(f"customer {customer_id} has no contact {contact_id}", field="contact_id")
    return Contact(name=row["name"], phone=row["phone"], email=row["email"])


async def change_priority(
    conn: AsyncConnection,
    store: EventStore,
    work_order_id: str,
    priority: Priority,
    *,
    reason: str,
    by: str,
    at: datetime,
    expected_version: int | None = None,
) -> Outcome:
    """New priority and deadlines (and an amendment if already released)."""
    facts = await _facts(conn, work_order_id)
    terms = contract_terms(facts.contract) if facts.contract else STANDARD_TERMS
    cmd = ChangePriority(priority, reason, by, at, terms, facts.closed_by_field)
    return await execute(
        conn,
        store,
        work_order_id,
        lambda s: decide_change_priority(s, cmd),
        expected_version=expected_version,
    )


async def request_approval(
    conn: AsyncConnection,
    store: EventStore,
    settings: IntakeSettings,
    work_order_id: str,
    *,
    note: str,
    by: str,
    at: datetime,
    expected_version: int | None = None,
) -> Outcome:
    """ApprovalRequested."""
    facts = await _facts(conn, work_order_id)
    cmd = RequestApproval(by, at, settings.approval_value_limit_minor, note, facts.site_access)
    return await execute(
        conn,
        store,
        work_order_id,
        lambda s: decide_request_approval(s, cmd),
        expected_version=expected_version,
    )


async def decide_on_approval(
    conn: AsyncConnection,
    store: EventStore,
    work_order_id: str,
    *,
    approve: bool,
    note: str,
    by: str,
    at: datetime,
    expected_version: int | None = None,
) -> Outcome:
    """WorkOrderApproved or WorkOrderRejected."""
    await _facts(conn, work_order_id)
    cmd = DecideApproval(approve, by, at, note)
    return await execute(
        conn,
        store,
        work_order_id,
        lambda s: decide_approval(s, cmd),
        expected_version=expected_version,
    )


async def release(
    conn: AsyncConnection,
    store: EventStore,
    settings: IntakeSettings,
    work_order_id: str,
    *,
    by: str,
    at: datetime,
    expected_version: int | None = None,
) -> Outcome:
    """WorkOrderReleased with the whole details."""
    facts = await _facts(conn, work_order_id)
    cmd = Release(by, at, settings.approval_value_limit_minor, facts.site_access)
    return await execute(
        conn,
        store,
        work_order_id,
        lambda s: decide_release(s, cmd),
        expected_version=expected_version,
    )


async def cancel(
    conn: AsyncConnection,
    store: EventStore,
    work_order_id: str,
    *,
    reason: str,
    by: str,
    at: datetime,
    expected_version: int | None = None,
) -> Outcome:
    """WorkOrderCancelled."""
    facts = await _facts(conn, work_order_id)
    cmd = Cancel(reason, by, at, facts.closed_by_field)
    return await execute(
        conn,
        store,
        work_order_id,
        lambda s: decide_cancel(s, cmd),
        expected_version=expected_version,
    )


async def link_duplicate(
    conn: AsyncConnection,
    store: EventStore,
    work_order_id: str,
    duplicate_of: str,
    *,
    by: str,
    at: datetime,
    expected_version: int | None = None,
) -> Outcome:
    """DuplicateLinked, to a request of the same customer."""
    facts = await _facts(conn, work_order_id)
    other = await queries.get_work_order(conn, duplicate_of)
    if other is None or other["customer_id"] != facts.customer_id:
        raise DomainError(
            f"{duplicate_of} is not a request of the same customer", field="duplicate_of"
        )
    cmd = LinkDuplicate(duplicate_of, by, at)
    return await execute(
        conn,
        store,
        work_order_id,
        lambda s: decide_link_duplicate(s, cmd),
        expected_version=expected_version,
    )


async def rate_visit(
    conn: AsyncConnection,
    store: EventStore,
    work_order_id: str,
    *,
    customer_id: str,
    score: int,
    comment: str,
    by: str,
    at: datetime,
    expected_version: int | None = None,
) -> Outcome:
    """VisitRated: the customer's own work order, once the field completed it."""
    facts = await _facts(conn, work_order_id)
    if facts.customer_id != customer_id:
        # Another customer's work order is as unknown as one that does not exist.
        raise NotFound(f"no work order {work_order_id}")
    cmd = RateVisit(
        score=score,
        comment=comment,
        rated_by=by,
        rated_at=at,
        completed_by_field=facts.completed_by_field,
        technician_id=facts.technician_id,
    )
    return await execute(
        conn,
        store,
        work_order_id,
        lambda s: decide_rate_visit(s, cmd),
        expected_version=expected_version,
    )

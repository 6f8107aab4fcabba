"""Logging requests, and the office's commands and queries on work orders."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.api.commands import IdempotencyKey, etag, expected_version
from jobstream.auth import Principal, Role
from jobstream.contracts.common import AttachmentRef, Channel, Priority
from jobstream.errors import InvalidInputError, NotFoundError
from jobstream.intake import handlers
from jobstream.intake.api.common import (
    Approver,
    Customer,
    IfMatch,
    Limit,
    Logger,
    ObjectStoreDep,
    Office,
    Offset,
    Reader,
    RuntimeDep,
    SettingsDep,
    event_store,
    mutate,
    own_customer,
    responses,
    visible,
)
from jobstream.intake.api.routes.attachments import checked_attachments
from jobstream.intake.api.schemas import (
    ApprovalRequestBody,
    ApproveBody,
    CancelBody,
    ChangeDetailsBody,
    ChangePriorityBody,
    LinkDuplicateBody,
    LogRequestBody,
    RateVisitBody,
    RejectBody,
    ReleaseBody,
    WorkOrderDetailView,
    WorkOrderView,
)
from jobstream.intake.config import IntakeSettings
from jobstream.intake.db import queries
from jobstream.intake.db.tables import sites
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
from jobstream.intake.domain.sla import at_risk
from jobstream.intake.domain.work_order import (
    Status,
    WorkOrder,
    approval_reasons,
    current_details,
    evolve,
)
from jobstream.service import Runtime

router = APIRouter(tags=["work orders"])


def _view(row: dict[str, Any], settings: IntakeSettings, now: datetime) -> dict[str, Any]:
    open_ = row["status"] in queries.OPEN_STATUSES and row["completed_at"] is None
    risky = open_ and at_risk(
        now,
        row["respond_by"],
        row["resolve_by"],
        responded=row["responded_at"] is not None,
        margin=timedelta(minutes=settings.sla_at_risk_minutes),
    )
    return row | {"sla_at_risk": risky}


async def _row_view(
    conn: AsyncConnection, work_order_id: str, settings: IntakeSettings
) -> dict[str, Any]:
    row = await queries.get_work_order(conn, work_order_id)
    assert row is not None
    return _view(row, settings, datetime.now(UTC))


# -- logging ----------------------------------------------------------------------------


@router.post(
    "/requests",
    response_model=WorkOrderView,
    status_code=201,
    summary="Log a request (office phone entry, customer portal or API)",
    responses=responses(401, 403, 404, 409, 422),
    tags=["requests"],
)
async def log_request(
    body: LogRequestBody,
    response: Response,
    principal: Logger,
    runtime: RuntimeDep,
    settings: SettingsDep,
    objects: ObjectStoreDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Log a request at once with its priority and SLA deadlines (`RequestLogged`).

    A similar open request at the same site is flagged (`PossibleDuplicateFlagged`), never
    merged.

    The office (dispatcher) logs phone calls (`channel: phone`, the default) and other
    systems log with `channel: api`; a customer logs through the portal for their own sites
    only. Use an `Idempotency-Key` so a retried entry never creates two jobs. Photos
    uploaded with `POST /request-photos` go in `attachments` as that answered (a customer's
    own uploads only; each is checked against what is stored).
    """
    if principal.role is Role.CUSTOMER:
        if body.customer_id != principal.customer_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="not your customer account")
        if body.release:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only the office releases work")
        channel = Channel.PORTAL
    else:
        channel = Channel(body.channel) if body.channel else Channel.PHONE
        if channel is Channel.PORTAL:
            raise InvalidInputError("portal is for customers", field="channel")
    attachments = await checked_attachments(objects, principal, body.attachments)
    store = event_store(runtime)

    async def work(conn: AsyncConnection) -> Any:
        if principal.role is Role.CUSTOMER:
            site = await queries.get_record(conn, sites, body.site_id)
            if site is None or site["customer_id"] != principal.customer_id:
                raise NotFoundError(f"no site {body.site_id}")
        now = datetime.now(UTC)
        outcome = await handlers.log_request(
            LogRequest(
                work_order_id=f"wo-{uuid.uuid4()}",
                customer_id=body.customer_id,
                site_id=body.site_id,
                asset_id=body.asset_id,
                contact_id=body.contact_id,
                contract_id=body.contract_id,
                channel=channel,
                description=body.description,
                priority=body.priority,
                job_type=body.job_type,
                logged_by=principal.subject,
                logged_at=now,
                external_reference=body.external_reference,
                attachments=attachments,
            ),
            handlers.Context(conn, store, settings),
            new_stream=True,  # a fresh uuid: no stream to load
        )
        if body.release:
            await _release_or_request_approval(
                conn, runtime, settings, outcome.state, principal.subject, now
            )
        return await _row_view(conn, outcome.state.id, settings)

    return await mutate(
        runtime,
        principal,
        scope="log_request",
        idempotency_key=idempotency_key,
        body=body.model_dump(mode="json"),
        response=response,
        status_code=201,
        work=work,
    )


async def _release_or_request_approval(
    conn: AsyncConnection,
    runtime: Runtime,
    settings: IntakeSettings,
    state: WorkOrder,
    by: str,
    at: datetime,
) -> None:
    details = current_details(state)
    ctx = handlers.Context(conn, event_store(runtime), settings)
    if details is not None and approval_reasons(details, settings.approval_value_limit_minor):
        await handlers.request_approval(RequestApproval(state.id, by, at), ctx)
    else:
        await handlers.release(Release(state.id, by, at), ctx)


# -- queries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkOrderFilters:
    """The query parameters of ``GET /work-orders``: every filter given must match."""

    status_: Annotated[
        list[str] | None, Query(alias="status", description="One or more statuses")
    ] = None
    priority: Annotated[list[Priority] | None, Query(description="One or more priorities")] = None
    customer_id: str | None = None
    site_id: str | None = None
    asset_id: str | None = None
    channel: Channel | None = None
    sla_at_risk: Annotated[
        bool, Query(description="Only open jobs near or past a deadline not yet met")
    ] = False
    limit: Limit = 100
    offset: Offset = 0


@router.get(
    "/work-orders",
    response_model=list[WorkOrderView],
    summary="List work orders",
    responses=responses(401, 403),
)
async def list_work_orders(
    principal: Reader,
    runtime: RuntimeDep,
    settings: SettingsDep,
    filters: Annotated[WorkOrderFilters, Depends()],
) -> Any:
    """The newest work orders matching every filter; a customer sees only their own."""
    customer_id = own_customer(principal, filters.customer_id)
    now = datetime.now(UTC)
    margin = timedelta(minutes=settings.sla_at_risk_minutes)
    async with runtime.engine.connect() as conn:
        rows = await queries.list_work_orders(
            conn,
            statuses=filters.status_ or (),
            priorities=[p.value for p in filters.priority or ()],
            at_risk_by=now + margin if filters.sla_at_risk else None,
            limit=filters.limit,
            offset=filters.offset,
            customer_id=customer_id,
            site_id=filters.site_id,
            asset_id=filters.asset_id,
            channel=filters.channel.value if filters.channel else None,
        )
    return [_view(row, settings, now) for row in rows]


@router.get(
    "/work-orders/{work_order_id}",
    response_model=WorkOrderDetailView,
    summary="One work order with its details and the site's and asset's previous jobs",
    responses=responses(401, 403, 404),
)
async def get_work_order(
    work_order_id: str,
    response: Response,
    principal: Reader,
    runtime: RuntimeDep,
    settings: SettingsDep,
) -> Any:
    """A work order; a customer gets 404 for anyone else's. The ETag is its version."""
    store = event_store(runtime)
    async with runtime.engine.connect() as conn:
        row = await queries.get_work_order(conn, work_order_id)
        if not visible(row, principal):
            raise NotFoundError(f"no work order {work_order_id}")
        assert row is not None
        recorded = await store.load(conn, work_order_id)
        site = await queries.get_record(conn, sites, row["site_id"])
        site_history = await queries.previous_jobs(
            conn, work_order_id=work_order_id, site_id=row["site_id"]
        )
        asset_history = (
            await queries.previous_jobs(conn, work_order_id=work_order_id, asset_id=row["asset_id"])
            if row["asset_id"]
            else []
        )
    state = WorkOrder(work_order_id)
    for event in recorded:
        state = evolve(state, event.data)
    details = current_details(state, site["access_instructions"] if site else "")
    reasons = (
        approval_reasons(details, settings.approval_value_limit_minor)
        if details and state.status in (Status.LOGGED, Status.AWAITING_APPROVAL)
        else []
    )
    response.headers["ETag"] = f'"{row["version"]}"'
    attachments: tuple[AttachmentRef, ...] = state.logged.attachments if state.logged else ()
    return _view(row, settings, datetime.now(UTC)) | {
        "details": details,
        "details_are_draft": state.status is not Status.RELEASED,
        "approval_needed": reasons,
        "attachments": list(attachments),
        "history": [
            {
                "version": e.stream_version,
                "event_type": e.data.event_type,
                "occurred_at": e.occurred_at,
                "event_id": e.event_id,
            }
            for e in recorded
        ],
        "site_history": site_history,
        "asset_history": asset_history,
    }


# -- commands ---------------------------------------------------------------------------

COMMAND_ERRORS = responses(401, 403, 404, 409, 422)


@dataclass(frozen=True)
class Issued:
    """Who gives a work order command, when, on which work order, having seen which version."""

    work_order_id: str
    principal: Principal
    at: datetime
    expected_version: int | None

    @property
    def fields(self) -> dict[str, Any]:
        """The fields every work order command has, as keyword arguments."""
        return {
            "work_order_id": self.work_order_id,
            "by": self.principal.subject,
            "at": self.at,
            "expected_version": self.expected_version,
        }


@dataclass(frozen=True)
class CommandRoute:
    """One work order command: ``method path`` with ``body``, for ``caller``.

    ``caller`` is a role dependency; ``command`` builds the command from the call and the
    body. ``optional_body``: the body may be left out; ``exclude_unset``: only the fields the
    caller sent are the request (a PATCH), for the Idempotency-Key's comparison.
    """

    path: str
    name: str
    summary: str
    doc: str
    caller: Any
    body: Any
    command: Callable[[Issued, Any], WorkOrderCommand]
    method: str = "POST"
    optional_body: bool = False
    exclude_unset: bool = False


def _command_route(route: CommandRoute) -> None:
    """Declare ``route`` on the router.

    ``handlers.handle`` runs its command in one transaction (``mutate``: idempotency;
    refusals answer through the shared handlers). The answer is the work order's row view,
    with its version as ETag. The endpoint gets the same name, parameters and description
    as a hand-written one, so the OpenAPI document does not change with how it was written.
    """

    async def endpoint(
        work_order_id: str,
        response: Response,
        principal: Principal,
        runtime: Runtime,
        settings: IntakeSettings,
        body: Any = None,
        idempotency_key: str | None = None,
        if_match: str | None = None,
    ) -> Any:
        store = event_store(runtime)
        version = expected_version(if_match)

        async def work(conn: AsyncConnection) -> Any:
            issued = Issued(work_order_id, principal, datetime.now(UTC), version)
            command = route.command(issued, body)
            await handlers.handle(command, handlers.Context(conn, store, settings))
            return await _row_view(conn, work_order_id, settings)

        payload = (
            {} if body is None else body.model_dump(mode="json", exclude_unset=route.exclude_unset)
        )
        result = await mutate(
            runtime,
            principal,
            scope=f"{route.name}:{work_order_id}",
            idempotency_key=idempotency_key,
            body=payload,
            response=response,
            status_code=200,
            work=work,
        )
        response.headers["ETag"] = etag(result["version"])
        return result

    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter("work_order_id", keyword, annotation=str)]
    if not route.optional_body:
        parameters.append(inspect.Parameter("body", keyword, annotation=route.body))
    parameters += [
        inspect.Parameter("response", keyword, annotation=Response),
        inspect.Parameter("principal", keyword, annotation=route.caller),
        inspect.Parameter("runtime", keyword, annotation=RuntimeDep),
        inspect.Parameter("settings", keyword, annotation=SettingsDep),
    ]
    if route.optional_body:
        parameters.append(
            inspect.Parameter("body", keyword, annotation=route.body | None, default=None)
        )
    parameters += [
        inspect.Parameter("idempotency_key", keyword, annotation=IdempotencyKey, default=None),
        inspect.Parameter("if_match", keyword, annotation=IfMatch, default=None),
    ]
    endpoint.__signature__ = inspect.Signature(parameters, return_annotation=Any)  # type: ignore[attr-defined]
    endpoint.__name__ = endpoint.__qualname__ = route.name
    endpoint.__doc__ = route.doc
    router.add_api_route(
        route.path,
        endpoint,
        methods=[route.method],
        response_model=WorkOrderView,
        summary=route.summary,
        responses=COMMAND_ERRORS,
    )


def _rating(issued: Issued, body: RateVisitBody) -> RateVisit:
    customer_id = issued.principal.customer_id
    assert customer_id is not None  # a customer token always names its customer
    return RateVisit(
        **issued.fields, customer_id=customer_id, score=body.score, comment=body.comment
    )


COMMAND_ROUTES = (
    CommandRoute(
        "/work-orders/{work_order_id}",
        method="PATCH",
        name="change_details",
        summary="Complete or amend the job details",
        doc="""Before release: edits the draft (`WorkOrderDetailsUpdated`). After release: amends it
    (`WorkOrderAmended` with the whole new details and the changed fields). A job type's
    required certifications cannot be removed (a gas job always needs `gas_safe`).""",
        caller=Office,
        body=ChangeDetailsBody,
        exclude_unset=True,
        command=lambda i, body: ChangeDetails(
            **i.fields, changes=body.changes(), reason=body.reason
        ),
    ),
    CommandRoute(
        "/work-orders/{work_order_id}/priority",
        name="change_priority",
        summary="Change the priority (and with it the SLA deadlines)",
        doc="""`RequestPriorityChanged` with deadlines recomputed from logging time under the same
    contract; a released work order is also amended so dispatch re-plans it.""",
        caller=Office,
        body=ChangePriorityBody,
        command=lambda i, body: ChangePriority(
            **i.fields, priority=body.priority, reason=body.reason
        ),
    ),
    CommandRoute(
        "/work-orders/{work_order_id}/approval-request",
        name="request_approval",
        summary="Ask for approval before release",
        doc="""`ApprovalRequested`, with the reasons: the job type needs approval, or the
    estimated value reaches the limit (`INTAKE_APPROVAL_VALUE_LIMIT_MINOR`).""",
        caller=Office,
        body=ApprovalRequestBody,
        command=lambda i, body: RequestApproval(**i.fields, note=body.note),
    ),
    CommandRoute(
        "/work-orders/{work_order_id}/approve",
        name="approve",
        summary="Approve (admin)",
        doc="""`WorkOrderApproved`; only a work order awaiting approval can be approved.""",
        caller=Approver,
        body=ApproveBody,
        command=lambda i, body: DecideApproval(**i.fields, approve=True, note=body.note),
    ),
    CommandRoute(
        "/work-orders/{work_order_id}/reject",
        name="reject",
        summary="Reject (admin)",
        doc="""`WorkOrderRejected`: the work order will not be released.""",
        caller=Approver,
        body=RejectBody,
        command=lambda i, body: DecideApproval(**i.fields, approve=False, note=body.reason),
    ),
    CommandRoute(
        "/work-orders/{work_order_id}/release",
        name="release",
        summary="Release for scheduling",
        doc="""`WorkOrderReleased` carrying the whole job details dispatch and the technician need.
    Refused (409) while approval is needed and not given, or when already released.""",
        caller=Office,
        body=ReleaseBody,
        optional_body=True,
        command=lambda i, _body: Release(**i.fields),
    ),
    CommandRoute(
        "/work-orders/{work_order_id}/cancel",
        name="cancel",
        summary="Cancel",
        doc="""`WorkOrderCancelled`, before or after release (not once the field finished it).""",
        caller=Office,
        body=CancelBody,
        command=lambda i, body: Cancel(**i.fields, reason=body.reason),
    ),
    CommandRoute(
        "/work-orders/{work_order_id}/duplicate-of",
        name="link_duplicate",
        summary="Link as a duplicate of another request",
        doc="""`DuplicateLinked`: the office confirms this request duplicates another of the same
    customer; it closes, pointing at the one that carries the work. Nothing is merged.""",
        caller=Office,
        body=LinkDuplicateBody,
        command=lambda i, body: LinkDuplicate(**i.fields, duplicate_of=body.duplicate_of),
    ),
    CommandRoute(
        "/work-orders/{work_order_id}/rating",
        name="rate_visit",
        summary="Rate the visit (the customer, once the job is completed)",
        doc="""`VisitRated`: the customer's score, 1 (poor) to 5 (excellent), and a comment, for the
    technician who completed the job. Once per work order (a second rating is 409), and only
    after the field reported the job completed (409 before); another customer's work order
    is 404. Customers only: the office does not rate for them.""",
        caller=Customer,
        body=RateVisitBody,
        command=_rating,
    ),
)
for _route in COMMAND_ROUTES:
    _command_route(_route)

"""The commands intake takes: what a caller asks of a work order, as types (pure data).

A route, a policy or the maintenance planner builds one; ``handlers.handle`` runs it by
its type. A command says only what the caller knows: what the handler reads from the
records (the contract's terms, the site's access notes, what the field reported) comes to
the decider separately, as ``domain.work_order.Facts``. ``expected_version`` is the
version the caller saw (If-Match); None: whatever the work order's version now is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobstream.contracts.common import AttachmentRef, Channel, Priority


@dataclass(frozen=True)
class LogRequest:
    """Log a request from any channel: ids of records, not their contents."""

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
class ChangeDetails:
    """Set some job details: before release the draft, after it an amendment.

    ``changes`` may name ``asset_id`` or ``contact_id``; the handler resolves them to the
    records the details carry.
    """

    work_order_id: str
    changes: Mapping[str, Any]
    by: str
    at: datetime
    reason: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class ChangePriority:
    """Set a new priority; the SLA deadlines are recomputed from logging time."""

    work_order_id: str
    priority: Priority
    reason: str
    by: str
    at: datetime
    expected_version: int | None = None


@dataclass(frozen=True)
class RequestApproval:
    """Ask for approval: needed by the rules, or wanted by the office (``note``)."""

    work_order_id: str
    by: str
    at: datetime
    note: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class DecideApproval:
    """Approve (``approve``), or reject with a reason (``note``)."""

    work_order_id: str
    approve: bool
    by: str
    at: datetime
    note: str = ""
    expected_version: int | None = None


@dataclass(frozen=True)
class Release:
    """Release for scheduling with the whole job details."""

    work_order_id: str
    by: str
    at: datetime
    expected_version: int | None = None


@dataclass(frozen=True)
class Cancel:
    """Cancel, before or after release."""

    work_order_id: str
    reason: str
    by: str
    at: datetime
    expected_version: int | None = None


@dataclass(frozen=True)
class LinkDuplicate:
    """The office confirms this request duplicates ``duplicate_of``."""

    work_order_id: str
    duplicate_of: str
    by: str
    at: datetime
    expected_version: int | None = None


@dataclass(frozen=True)
class RateVisit:
    """The customer rates the visit, 1 (poor) to 5 (excellent), with a comment."""

    work_order_id: str
    customer_id: str
    score: int
    comment: str
    by: str
    at: datetime
    expected_version: int | None = None


@dataclass(frozen=True)
class AssignEmail:
    """File an inbound email as a request for a customer's site.

    The office does so for an email waiting in triage; intake itself for one whose sender
    names one customer and site. ``priority`` None: the setting for emailed requests.
    """

    email_id: str
    customer_id: str
    site_id: str
    by: str
    at: datetime
    asset_id: str | None = None
    priority: Priority | None = None
    job_type: str | None = None


@dataclass(frozen=True)
class DismissEmail:
    """Close an email waiting in triage that is no request; ``reason`` says why."""

    email_id: str
    reason: str
    by: str
    at: datetime


# A command on a work order that already exists (everything but logging).
WorkOrderCommand = (
    ChangeDetails
    | ChangePriority
    | RequestApproval
    | DecideApproval
    | Release
    | Cancel
    | LinkDuplicate
    | RateVisit
)

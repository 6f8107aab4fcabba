"""How the intake service is assembled."""

from __future__ import annotations

from fastapi import FastAPI

from jobstream.contracts import topics
from jobstream.eventstore.store import EventStore
from jobstream.intake import policies
from jobstream.intake.api.guards import RefuseNul
from jobstream.intake.api.routes import routers
from jobstream.intake.config import get_settings
from jobstream.intake.db.tables import consumer_tables, events, metadata
from jobstream.messaging.consumer import ConsumerSpec
from jobstream.messaging.reactions import handlers_by_event
from jobstream.service import Runtime, ServiceDefinition

DESCRIPTION = """
Requests from every channel — office (phone), customer portal, API, inbound email and
planned maintenance — logged at once with SLA deadlines from the customer's contract, then
completed into work orders, approved where needed, released, amended or cancelled.

Authenticate with a bearer token (`uv run jobstream token --role dispatcher`). Roles:
`dispatcher` (the office), `admin` (also approves), `customer` (the portal: own sites and
requests only), `analyst` (read-only). Mutating endpoints accept an `Idempotency-Key`;
work order commands accept `If-Match` with the version from the ETag and answer 409 if
someone changed the work order meanwhile.
"""


def consumers(_runtime: Runtime | None) -> list[ConsumerSpec]:
    """intake.policies: reactions to field events and dispatch's decisions (the appointment)."""
    return [
        ConsumerSpec(
            group_id="intake.policies",
            topics=(topics.FIELD, topics.DISPATCH),
            handlers=handlers_by_event(
                *policies.REACTIONS,
                context=policies.IntakeContext(EventStore(events), get_settings()),
            ),
        )
    ]


def configure(app: FastAPI, _runtime: Runtime) -> None:
    """What the routes need in front of them."""
    app.add_middleware(RefuseNul)


def definition() -> ServiceDefinition:
    """The intake service."""
    return ServiceDefinition(
        name="intake",
        metadata=metadata,
        migrations="jobstream.intake.db:migrations",
        events_table=events,
        consumer_tables=consumer_tables,
        routers=routers,
        consumers=consumers,
        configure=configure,
        title="Jobstream intake",
        description=DESCRIPTION,
    )

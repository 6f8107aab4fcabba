"""How the fieldupdates service is assembled."""

from __future__ import annotations

from jobstream.contracts import topics
from jobstream.fieldupdates import policies
from jobstream.fieldupdates.api import attachments, office, technician
from jobstream.fieldupdates.db.tables import consumer_tables, events, metadata
from jobstream.messaging.consumer import ConsumerSpec
from jobstream.messaging.reactions import handlers_by_event
from jobstream.service import Runtime, ServiceDefinition


def consumers(_runtime: Runtime | None) -> list[ConsumerSpec]:
    """fieldupdates.jobs: job packs and reassignments from dispatch, cancellations from intake."""
    return [
        ConsumerSpec(
            group_id="fieldupdates.jobs",
            topics=(topics.DISPATCH, topics.INTAKE),
            handlers=handlers_by_event(*policies.REACTIONS),
        )
    ]


def definition() -> ServiceDefinition:
    """The fieldupdates service."""
    return ServiceDefinition(
        name="fieldupdates",
        metadata=metadata,
        migrations="jobstream.fieldupdates.db:migrations",
        events_table=events,
        consumer_tables=consumer_tables,
        routers=lambda: [technician.router, attachments.router, office.router],
        consumers=consumers,
        title="Jobstream field updates",
        description="The technician's job flow from the field, with offline sync.",
    )

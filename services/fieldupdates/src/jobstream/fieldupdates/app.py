"""How the fieldupdates service is assembled."""

from __future__ import annotations

from jobstream.contracts import topics
from jobstream.fieldupdates.api import attachments, office, technician
from jobstream.fieldupdates.db.tables import consumer_tables, events, metadata
from jobstream.fieldupdates.policies import (
    on_job_dispatched,
    on_job_rescheduled,
    on_job_unscheduled,
    on_work_order_cancelled,
)
from jobstream.messaging.consumer import ConsumerSpec
from jobstream.service import Runtime, ServiceDefinition


def consumers(_runtime: Runtime | None) -> list[ConsumerSpec]:
    """fieldupdates.jobs: job packs and reassignments from dispatch, cancellations from intake."""
    return [
        ConsumerSpec(
            group_id="fieldupdates.jobs",
            topics=(topics.DISPATCH, topics.INTAKE),
            handlers={
                "JobDispatched": on_job_dispatched,
                "JobRescheduled": on_job_rescheduled,
                "JobUnscheduled": on_job_unscheduled,
                "WorkOrderCancelled": on_work_order_cancelled,
            },
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

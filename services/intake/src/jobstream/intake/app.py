"""How the intake service is assembled."""

from __future__ import annotations

from jobstream.contracts import topics
from jobstream.intake.api.routes import router
from jobstream.intake.db.tables import consumer_tables, events, metadata
from jobstream.intake.policies import on_job_completed
from jobstream.messaging.consumer import ConsumerSpec
from jobstream.service import Runtime, ServiceDefinition


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    """intake.policies: reactions to field events."""
    return [
        ConsumerSpec(
            group_id="intake.policies",
            topics=(topics.FIELD,),
            handlers={"JobCompleted": on_job_completed},
        )
    ]


def definition() -> ServiceDefinition:
    """The intake service."""
    return ServiceDefinition(
        name="intake",
        metadata=metadata,
        migrations="jobstream.intake.db:migrations",
        events_table=events,
        consumer_tables=consumer_tables,
        routers=lambda: [router],
        consumers=consumers,
        title="Jobstream intake",
        description="Requests from every channel, work orders, SLAs.",
    )

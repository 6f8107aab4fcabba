"""How the dispatch service is assembled."""

from __future__ import annotations

from jobstream.contracts import topics
from jobstream.dispatch.api.routes import router
from jobstream.dispatch.db.tables import consumer_tables, events, metadata
from jobstream.dispatch.policies import on_job_completed, on_work_order_released
from jobstream.messaging.consumer import ConsumerSpec
from jobstream.service import Runtime, ServiceDefinition


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    """dispatch.scheduler: released work orders in, field progress in."""
    return [
        ConsumerSpec(
            group_id="dispatch.scheduler",
            topics=(topics.INTAKE, topics.FIELD),
            handlers={
                "WorkOrderReleased": on_work_order_released,
                "JobCompleted": on_job_completed,
            },
        )
    ]


def definition() -> ServiceDefinition:
    """The dispatch service."""
    return ServiceDefinition(
        name="dispatch",
        metadata=metadata,
        migrations="jobstream.dispatch.db:migrations",
        events_table=events,
        consumer_tables=consumer_tables,
        routers=lambda: [router],
        consumers=consumers,
        title="Jobstream dispatch",
        description="Technician registry, scheduling and dispatch.",
    )

"""How the reporting service is assembled."""

from __future__ import annotations

from jobstream.contracts import registry, topics
from jobstream.messaging.consumer import ConsumerSpec
from jobstream.reporting.api.routes import router
from jobstream.reporting.api.session import router as session_router
from jobstream.reporting.db.tables import consumer_tables, metadata
from jobstream.reporting.projections import handlers_for, project_batch
from jobstream.service import Runtime, ServiceDefinition


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    """reporting.projector: every topic in, projected a batch at a time."""
    return [
        ConsumerSpec(
            group_id="reporting.projector",
            topics=topics.EVENT_TOPICS,
            handlers=handlers_for(registry),
            after_batch=project_batch,
        )
    ]


def definition() -> ServiceDefinition:
    """The reporting service."""
    return ServiceDefinition(
        name="reporting",
        metadata=metadata,
        migrations="jobstream.reporting.db:migrations",
        events_table=None,
        consumer_tables=consumer_tables,
        routers=lambda: [router, session_router],
        consumers=consumers,
        title="Jobstream reporting",
        description="Job timelines and counts, projected from every topic.",
    )

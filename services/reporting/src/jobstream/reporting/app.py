"""How the reporting service is assembled."""

from __future__ import annotations

from jobstream.contracts import registry, topics
from jobstream.messaging.consumer import ConsumerSpec
from jobstream.reporting.api.routes import router
from jobstream.reporting.api.session import router as session_router
from jobstream.reporting.db.tables import consumer_tables, metadata
from jobstream.reporting.projections import handlers_for, project_batch
from jobstream.service import Runtime, ServiceDefinition

# Records per poll of the projector, all applied in one transaction: a job's events span
# four topics, so the bigger the poll, the fewer times a catching-up projector refolds a
# job (docs/adr/0068). Live, polls hold what arrived in the last moment, far fewer.
PROJECTOR_POLL_RECORDS = 5000


def consumers(_runtime: Runtime | None) -> list[ConsumerSpec]:
    """The reporting.projector consumer: every topic in, projected a poll at a time.

    Every partition's records of one poll are applied in one transaction.
    """
    return [
        ConsumerSpec(
            group_id="reporting.projector",
            topics=topics.EVENT_TOPICS,
            handlers=handlers_for(registry),
            after_batch=project_batch,
            across_partitions=True,
            max_records=PROJECTOR_POLL_RECORDS,
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

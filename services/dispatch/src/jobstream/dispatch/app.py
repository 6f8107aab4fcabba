"""How the dispatch service is assembled."""

from __future__ import annotations

from jobstream.contracts import topics
from jobstream.dispatch import policies
from jobstream.dispatch.api.routes import router
from jobstream.dispatch.config import get_settings
from jobstream.dispatch.db.tables import consumer_tables, events, metadata
from jobstream.messaging.consumer import ConsumerSpec
from jobstream.messaging.reactions import handlers_by_event
from jobstream.service import Runtime, ServiceDefinition


def consumers(_runtime: Runtime | None) -> list[ConsumerSpec]:
    """dispatch.scheduler: work orders from intake, progress and notes from the field."""
    return [
        ConsumerSpec(
            group_id="dispatch.scheduler",
            topics=(topics.INTAKE, topics.FIELD),
            handlers=handlers_by_event(*policies.REACTIONS, context=get_settings()),
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
        description="Technician registry, optimised scheduling, overrides and the dispatch board.",
    )

"""How the fieldupdates service is assembled."""

from __future__ import annotations

from jobstream.contracts import topics
from jobstream.fieldupdates.api.routes import router
from jobstream.fieldupdates.db.tables import consumer_tables, events, metadata
from jobstream.fieldupdates.policies import on_job_dispatched
from jobstream.messaging.consumer import ConsumerSpec
from jobstream.service import Runtime, ServiceDefinition


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    """fieldupdates.jobs: dispatched job packs in."""
    return [
        ConsumerSpec(
            group_id="fieldupdates.jobs",
            topics=(topics.DISPATCH,),
            handlers={"JobDispatched": on_job_dispatched},
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
        routers=lambda: [router],
        consumers=consumers,
        title="Jobstream field updates",
        description="The technician's job flow from the field.",
    )

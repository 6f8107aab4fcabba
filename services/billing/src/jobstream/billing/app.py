"""How the billing service is assembled."""

from __future__ import annotations

from jobstream.billing.api.routes import router
from jobstream.billing.db.tables import consumer_tables, events, metadata
from jobstream.billing.projections import project_job_completed
from jobstream.contracts import topics
from jobstream.messaging.consumer import ConsumerSpec
from jobstream.service import Runtime, ServiceDefinition


def consumers(_runtime: Runtime) -> list[ConsumerSpec]:
    """billing.invoicer: completions in, invoices out."""
    return [
        ConsumerSpec(
            group_id="billing.invoicer",
            topics=(topics.FIELD,),
            handlers={"JobCompleted": project_job_completed},
        )
    ]


def definition() -> ServiceDefinition:
    """The billing service."""
    return ServiceDefinition(
        name="billing",
        metadata=metadata,
        migrations="jobstream.billing.db:migrations",
        events_table=events,
        consumer_tables=consumer_tables,
        routers=lambda: [router],
        consumers=consumers,
        title="Jobstream billing",
        description="Invoices as a projection over the event log.",
    )

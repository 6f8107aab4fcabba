"""How the billing service is assembled."""

from __future__ import annotations

from jobstream.billing.api.routes import routers
from jobstream.billing.db.tables import events, metadata
from jobstream.billing.worker import GenerationWorker
from jobstream.service import Runtime, ServiceDefinition, Worker


def workers(runtime: Runtime) -> list[Worker]:
    """billing.projector: the active generation's consumer, following switches."""
    return [
        GenerationWorker(
            runtime.engine,
            bootstrap_servers=runtime.settings.kafka.bootstrap_servers,
            namespace=runtime.settings.namespace,
        )
    ]


def definition() -> ServiceDefinition:
    """The billing service."""
    return ServiceDefinition(
        name="billing",
        metadata=metadata,
        migrations="jobstream.billing.db:migrations",
        events_table=events,
        # Consumer bookkeeping lives in each generation's schema; the worker runs it.
        consumer_tables=None,
        routers=routers,
        workers=workers,
        title="Jobstream billing",
        description="Invoices as a projection over the event log: priced at completion, "
        "corrected by credit notes, exported for Xero, rebuilt byte for byte.",
    )

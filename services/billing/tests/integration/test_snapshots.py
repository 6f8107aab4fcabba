"""A job's field history loaded from its snapshot row on PostgreSQL is the full fold.

Pricing loads a job's field facts as its generation's snapshot plus the later facts
(handlers.load_history, db/snapshots.py); here with the resident states dropped before each
load, so the row itself is read, across a completion, a reopen and a second technician.
"""

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from jobstream.billing.db import generations, queries
from jobstream.billing.db.snapshots import field_history_snapshots, history_snapshots, parse_fact
from jobstream.billing.domain.history import fold_history
from jobstream.billing.handlers import load_history
from jobstream.contracts.field import JobReopened
from jobstream.db import async_engine
from jobstream.testing.builders import T0, JobStory

pytestmark = pytest.mark.integration


def field_facts(work_order_id: str) -> list:
    """Labour and parts by one technician, completed, reopened, finished by another."""
    a = JobStory(work_order_id=work_order_id, technician_id="tech-a")
    b = JobStory(work_order_id=work_order_id, technician_id="tech-b")
    first = [a.labour_logged(T0 + timedelta(minutes=n), 10, entry=f"a{n}") for n in range(18)]
    first += [
        a.material_used_at(T0 + timedelta(minutes=20), "VALVE-15", 2000),
        a.material_corrected(T0 + timedelta(minutes=21), 1500),
        a.completed_at(T0 + timedelta(minutes=30), labour_minutes=180),
        JobReopened(
            work_order_id=work_order_id,
            technician_id="tech-a",
            reason="The fault came back",
            reopened_by="office",
            reopened_at=T0 + timedelta(hours=5),
        ),
    ]
    second = [
        b.labour_logged(T0 + timedelta(hours=6, minutes=n), 5, entry=f"b{n}") for n in range(6)
    ]
    second += [
        b.material_used_at(T0 + timedelta(hours=7), "PUMP-CIRC", 1000, entry="m2"),
        b.completed_at(T0 + timedelta(hours=8), labour_minutes=30, first_time_fix=False),
    ]
    return [*first, *second]


def loads(source: str) -> float:
    labels = {"kind": "billing_history", "source": source}
    return REGISTRY.get_sample_value("jobstream_snapshot_loads_total", labels) or 0.0


async def test_a_history_from_its_snapshot_row_and_later_facts_is_the_full_fold(database_factory):
    engine = async_engine(database_factory("jobstream.billing.db:migrations"))
    generation = await generations.ensure_active(engine)
    scoped = generations.engine_for(engine, generation)
    snapshots = field_history_snapshots(generation.number)
    work_order_id = f"wo-snap-{generation.schema}"
    facts = [(f"{work_order_id}-e{n}", e) for n, e in enumerate(field_facts(work_order_id))]
    seqs = []
    async with scoped.begin() as conn:
        for event_id, event in facts:
            seq = await queries.append_field_fact(
                conn, work_order_id, event_id, event.event_type, event.model_dump(mode="json")
            )
            seqs.append(seq)
            snapshots.forget()
            from_row = loads("snapshot")
            history = await load_history(conn, generation.number, work_order_id, seq)
            expected = fold_history(
                (i, parse_fact(e.event_type, e.model_dump(mode="json"))) for i, e in facts[:seq]
            )
            assert history == expected
            # From the 20th fact on a row is kept, and each later load starts from it.
            assert loads("snapshot") == from_row + (1 if seq > 20 else 0)
        kept = await conn.scalar(
            history_snapshots.select()
            .with_only_columns(history_snapshots.c.stream_version)
            .where(history_snapshots.c.stream_id == work_order_id)
        )
        assert kept == 20
        # A trigger with later facts (priced after a wait) is folded up to it, whole.
        snapshots.forget()
        reopened_at = seqs[21]
        history = await load_history(conn, generation.number, work_order_id, reopened_at)
        assert history.outcome is None and history.last is not None
        assert history.last.event_id == facts[21][0]
    assert history.technician_ids == {"tech-a"}
    await engine.dispose()

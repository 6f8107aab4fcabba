"""A job's snapshot over real PostgreSQL: written with its events, loaded as the full fold.

And an action's answer, built from the job just decided, is the job as GET shows it.
"""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from jobstream.eventstore.store import EventStore
from jobstream.fieldupdates import handlers
from jobstream.fieldupdates.db import queries
from jobstream.fieldupdates.db.snapshots import JOB_SNAPSHOTS
from jobstream.fieldupdates.db.tables import events, jobs, snapshots
from jobstream.fieldupdates.domain.state import fold

from .harness import NOW, action, dispatched, office, rescheduled, tech, visit

pytestmark = pytest.mark.integration
STORE = EventStore(events)


async def snapshot_rows(field, wo):
    async with field.engine.connect() as conn:
        return (await conn.execute(select(snapshots).where(snapshots.c.stream_id == wo))).all()


def job_bytes(answer):
    """The job in an action's answer, as the bytes FastAPI writes for it on its own."""
    job = answer.json()["job"]
    return json.dumps(job, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


async def loaded_and_full(field, wo):
    """The job as handlers.load gets it, and the whole stream folded.

    The load is made twice: from this process's resident state, and from the snapshot row
    (or the events) as another process would; both must be the full fold.
    """
    async with field.engine.connect() as conn:
        row = await queries.get_job(conn, wo)
        loaded = await handlers.load(conn, STORE, row)
        JOB_SNAPSHOTS.forget(wo)
        cold = await handlers.load(conn, STORE, row)
        recorded = await STORE.load(conn, wo)
    full = fold(wo, ((r.stream_version, r.data) for r in recorded), row["visit_started_version"])
    assert cold.job == full and cold.version == loaded.version
    return loaded, full, row


def notes(wo, count, first_seq):
    return [action(wo, "add_note", first_seq + i, {"text": f"Note {i}"}) for i in range(count)]


async def started(field, technician_id="t-ann", events=20):
    """A job in progress holding ``events`` events (the flow, then notes)."""
    job = dispatched(technician_id)
    await field.deliver(job)
    actions = visit(job.work_order_id)[:5] + notes(job.work_order_id, events - 5, 6)
    assert (await field.sync(technician_id, actions)).status_code == 200
    return job.work_order_id


async def test_the_jobs_snapshot_is_written_with_its_events_every_20(field):
    wo = await started(field, events=19)
    assert await snapshot_rows(field, wo) == []
    # The 20th event writes the row, in the transaction of its append.
    answer = await field.act(wo, "notes", "t-ann", {"text": "Boiler in the loft"})
    assert answer.status_code == 200
    [row] = await snapshot_rows(field, wo)
    loaded, full, job_row = await loaded_and_full(field, wo)
    assert row.stream_version == job_row["stream_version"] == loaded.version == 20
    assert JOB_SNAPSHOTS.codec.load(row.state).job == full == loaded.job
    # Nineteen more events stay on top of it; the fortieth moves it on.
    assert (await field.sync("t-ann", notes(wo, 19, 30))).status_code == 200
    assert [r.stream_version for r in await snapshot_rows(field, wo)] == [20]
    loaded, full, _row = await loaded_and_full(field, wo)
    assert loaded.job == full and loaded.version == 39
    assert (await field.sync("t-ann", notes(wo, 1, 60))).status_code == 200
    assert [r.stream_version for r in await snapshot_rows(field, wo)] == [40]


async def test_the_answer_to_an_action_is_the_job_as_get_shows_it(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    for path, body in (
        ("acknowledge", {}),
        ("travel", {"eta": NOW.isoformat()}),
        ("arrive", {}),
        ("start", {}),
        ("time", {"kind": "labour", "minutes": 40}),
        ("notes", {"text": "Stopcock under the stairs", "carry_forward": True}),
        ("materials", {"sku": "VALVE-15", "description": "Valve", "quantity_milli": 1000}),
    ):
        response = await field.act(wo, path, "t-ann", body)
        assert response.status_code == 200, response.text
        shown = await field.client.get(f"/jobs/{wo}", headers=tech("t-ann"))
        assert job_bytes(response) == shown.content
    # A retried action decided nothing: its answer reads the job, and shows the same.
    key = {"Idempotency-Key": "note-1"}
    first = await field.act(wo, "notes", "t-ann", {"text": "Left a card"}, key)
    again = await field.act(wo, "notes", "t-ann", {"text": "Left a card"}, key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert job_bytes(again) == job_bytes(first)
    done = await field.act(wo, "complete", "t-ann", {"work_done": "Valve", "first_time_fix": True})
    assert done.status_code == 200, done.text
    shown = await field.client.get(f"/jobs/{wo}", headers=tech("t-ann"))
    assert job_bytes(done) == shown.content


async def test_a_reassignment_at_the_snapshot_starts_the_new_visit(field):
    wo = await started(field)
    await field.deliver(rescheduled(wo, "t-ann", "t-bob"))
    await field.deliver(dispatched("t-bob", work_order_id=wo))
    loaded, full, row = await loaded_and_full(field, wo)
    [snapshot] = await snapshot_rows(field, wo)
    assert row["visit_started_version"] == snapshot.stream_version == loaded.version == 20
    assert loaded.job == full
    assert loaded.job.status.value == "dispatched"
    shown = (await field.client.get(f"/jobs/{wo}", headers=tech("t-bob"))).json()
    assert shown["status"] == "dispatched"
    assert len(shown["notes"]) == 15  # the first visit's records stay
    answer = await field.act(wo, "acknowledge", "t-bob")
    assert answer.status_code == 200, answer.text
    assert answer.json()["job"]["status"] == "acknowledged"
    loaded, full, _row = await loaded_and_full(field, wo)
    assert loaded.job == full


async def test_a_visit_start_moved_inside_the_snapshot_is_a_full_fold(field):
    wo = await started(field)
    # A visit start the snapshot could not have known of, inside what it covers.
    async with field.engine.begin() as conn:
        await conn.execute(
            jobs.update().where(jobs.c.work_order_id == wo).values(visit_started_version=3)
        )
    loaded, full, _row = await loaded_and_full(field, wo)
    assert loaded.job == full
    assert loaded.job.status.value == "in_progress"
    assert [s.value for s, _at in loaded.job.status_history][-2:] == ["on_site", "in_progress"]


async def test_a_reopened_job_loads_from_its_snapshot(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    steps = visit(wo)
    # The visit up to completion, eight notes, then completing it: 20 events.
    complete = steps[-1] | {
        "device_seq": 30,
        "device_time": (NOW + timedelta(minutes=30)).isoformat(),
    }
    answer = await field.sync("t-ann", [*steps[:-1], *notes(wo, 8, 20), complete])
    assert answer.json()["applied"] == 20
    [snapshot] = await snapshot_rows(field, wo)
    assert snapshot.stream_version == 20  # completed
    reopened = await field.client.post(
        f"/office/jobs/{wo}/reopen", json={"reason": "Leak is back"}, headers=office()
    )
    assert reopened.json() == {"work_order_id": wo, "status": "in_progress", "version": 21}
    loaded, full, _row = await loaded_and_full(field, wo)
    assert loaded.job == full and loaded.job.status.value == "in_progress"
    assert loaded.job.rejected == ()
    done = await field.act(
        wo, "complete", "t-ann", {"work_done": "Resealed", "first_time_fix": False}
    )
    assert done.status_code == 200, done.text
    assert done.json()["job"]["status"] == "completed"

"""fieldupdates.jobs runs the shared consumer contract suite (real Kafka and PostgreSQL)."""

from datetime import timedelta

from jobstream.contracts.dispatch import JobRescheduled, JobUnscheduled
from jobstream.contracts.intake import WorkOrderCancelled
from jobstream.fieldupdates.app import consumers
from jobstream.fieldupdates.db.tables import consumer_tables, job_technicians, jobs
from jobstream.testing.builders import JobStory, envelopes, rows_of
from jobstream.testing.contract_suite import ConsumerContract


def story_events():
    """Packs for four jobs; one reassigned, one unscheduled, one cancelled."""
    stories = [JobStory(technician_id=f"tech-{i}") for i in range(4)]
    events = [s.dispatched() for s in stories]
    moved, dropped, cancelled = stories[1], stories[2], stories[3]
    at = moved.start + timedelta(hours=1)
    events += [
        JobRescheduled(
            work_order_id=moved.work_order_id,
            technician_id="tech-9",
            previous_technician_id=moved.technician_id,
            window_start=at,
            window_end=at + timedelta(hours=1),
            previous_window_start=at,
            eta=at,
            travel_minutes=15,
            rescheduled_at=at,
        ),
        JobUnscheduled(
            work_order_id=dropped.work_order_id,
            technician_id=dropped.technician_id,
            reason="Technician off sick",
            unscheduled_at=at,
        ),
        WorkOrderCancelled(
            work_order_id=cancelled.work_order_id,
            reason="Customer fixed it",
            cancelled_by="office",
            cancelled_at=at,
        ),
    ]
    return events


class TestJobsContract(ConsumerContract):
    migrations = "jobstream.fieldupdates.db:migrations"
    tables = consumer_tables

    def consumer_spec(self):
        return consumers(None)[0]

    def scenario(self):
        return envelopes(story_events())

    async def snapshot(self, conn):
        return (
            await rows_of(conn, jobs, order_by="work_order_id"),
            await rows_of(conn, job_technicians, order_by="technician_id"),
        )

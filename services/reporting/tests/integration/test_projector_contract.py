"""reporting.projector runs the shared consumer contract suite."""

from jobstream.reporting.app import consumers
from jobstream.reporting.db.tables import consumer_tables, event_log, jobs, technicians
from jobstream.testing.builders import JobStory, envelopes, rows_of
from jobstream.testing.contract_suite import ConsumerContract


class TestProjectorContract(ConsumerContract):
    migrations = "jobstream.reporting.db:migrations"
    tables = consumer_tables

    def consumer_spec(self):
        return consumers(None)[0]

    def scenario(self):
        story = JobStory()
        return envelopes(
            [story.technician_registered(), *story.lifecycle(), *JobStory().lifecycle()[:3]]
        )

    async def snapshot(self, conn):
        return {
            "event_log": await rows_of(
                conn, event_log, exclude=("seq", "recorded_at"), order_by="event_id"
            ),
            "jobs": await rows_of(conn, jobs, order_by="work_order_id"),
            "technicians": await rows_of(conn, technicians, order_by="technician_id"),
        }

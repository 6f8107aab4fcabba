"""reporting.projector runs the shared consumer contract suite."""

from jobstream.reporting.app import consumers
from jobstream.reporting.db.tables import consumer_tables, job_status, timeline
from jobstream.testing.builders import JobStory, envelopes, rows_of
from jobstream.testing.contract_suite import ConsumerContract


class TestProjectorContract(ConsumerContract):
    migrations = "jobstream.reporting.db:migrations"
    tables = consumer_tables

    def consumer_spec(self):
        return consumers(None)[0]

    def scenario(self):
        return envelopes(JobStory().lifecycle() + JobStory().lifecycle()[:3])

    async def snapshot(self, conn):
        return {
            "timeline": await rows_of(conn, timeline, order_by="event_id"),
            "status": await rows_of(conn, job_status, order_by="work_order_id"),
        }

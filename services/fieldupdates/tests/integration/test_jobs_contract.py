"""fieldupdates.jobs runs the shared consumer contract suite."""

from jobstream.fieldupdates.app import consumers
from jobstream.fieldupdates.db.tables import assignments, consumer_tables
from jobstream.testing.builders import JobStory, envelopes, rows_of
from jobstream.testing.contract_suite import ConsumerContract


class TestJobsContract(ConsumerContract):
    migrations = "jobstream.fieldupdates.db:migrations"
    tables = consumer_tables

    def consumer_spec(self):
        return consumers(None)[0]

    def scenario(self):
        return envelopes([JobStory(technician_id=f"tech-{i}").dispatched() for i in range(4)])

    async def snapshot(self, conn):
        return await rows_of(conn, assignments, order_by="work_order_id")

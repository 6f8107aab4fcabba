"""intake.policies runs the shared consumer contract suite."""

from datetime import timedelta

from jobstream.intake.app import consumers
from jobstream.intake.db.tables import consumer_tables, work_orders
from jobstream.testing.builders import T0, JobStory, envelopes, rows_of
from jobstream.testing.contract_suite import ConsumerContract


class TestPoliciesContract(ConsumerContract):
    migrations = "jobstream.intake.db:migrations"
    tables = consumer_tables

    def consumer_spec(self):
        return consumers(None)[0]

    def scenario(self):
        return envelopes([JobStory().completed() for _ in range(3)])

    async def prepare(self, conn, story):
        for envelope in story:
            await conn.execute(
                work_orders.insert().values(
                    work_order_id=envelope.subject,
                    customer_id="cust-test",
                    site_id="site-1",
                    channel="phone",
                    job_type="boiler_service",
                    description="No heating",
                    priority="P2",
                    status="released",
                    logged_at=T0,
                    respond_by=T0 + timedelta(hours=4),
                    resolve_by=T0 + timedelta(hours=24),
                    version=2,
                )
            )

    async def snapshot(self, conn):
        return await rows_of(conn, work_orders, order_by="work_order_id")

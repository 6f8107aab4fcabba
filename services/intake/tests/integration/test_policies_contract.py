"""intake.policies runs the shared consumer contract suite.

Appointments, completions, follow-ups and next services are applied exactly once, replay
gives the same rows and the same derived ids.
"""

from datetime import date, timedelta

from sqlalchemy import select

from jobstream.contracts.dispatch import JobRescheduled, JobUnscheduled
from jobstream.contracts.field import (
    IncompleteReason,
    JobIncomplete,
    TechnicianArrived,
    TravelStarted,
)
from jobstream.intake.app import consumers
from jobstream.intake.db.tables import (
    assets,
    consumer_tables,
    customers,
    events,
    maintenance_plans,
    sites,
    work_orders,
)
from jobstream.testing.builders import T0, JobStory, envelopes, rows_of
from jobstream.testing.contract_suite import ConsumerContract


class TestPoliciesContract(ConsumerContract):
    migrations = "jobstream.intake.db:migrations"
    tables = consumer_tables

    def consumer_spec(self):
        return consumers(None)[0]

    def scenario(self):
        plain, follow_up, failed = JobStory(), JobStory(), JobStory()
        scheduled = plain.scheduled()
        en_route = TravelStarted(
            work_order_id=plain.work_order_id,
            technician_id=plain.technician_id,
            device_time=T0 + timedelta(minutes=40),
            received_at=T0 + timedelta(minutes=40),
            eta=T0 + timedelta(minutes=65),
        )
        moved = JobRescheduled(
            work_order_id=follow_up.work_order_id,
            technician_id="tech-other",
            previous_technician_id=follow_up.technician_id,
            window_start=T0 + timedelta(hours=2),
            window_end=T0 + timedelta(hours=3),
            previous_window_start=T0 + timedelta(hours=1),
            eta=T0 + timedelta(hours=2),
            travel_minutes=10,
            rescheduled_at=T0 + timedelta(minutes=20),
        )
        dropped = JobUnscheduled(
            work_order_id=failed.work_order_id,
            technician_id=failed.technician_id,
            reason="Van broke down",
            unscheduled_at=T0 + timedelta(minutes=30),
        )
        arrived = TechnicianArrived(
            work_order_id=plain.work_order_id,
            technician_id=plain.technician_id,
            device_time=T0 + timedelta(hours=1),
            received_at=T0 + timedelta(hours=1),
        )
        incomplete = JobIncomplete(
            work_order_id=failed.work_order_id,
            technician_id=failed.technician_id,
            device_time=T0 + timedelta(hours=2),
            received_at=T0 + timedelta(hours=2),
            customer_id=failed.customer_id,
            site_id=failed.site.site_id,
            job_type=failed.job_type,
            priority=failed.priority,
            ended_at=T0 + timedelta(hours=2),
            reason=IncompleteReason.NO_ACCESS,
        )
        return envelopes(
            [
                scheduled,
                follow_up.scheduled(),
                failed.scheduled(),
                en_route,
                moved,
                dropped,
                arrived,
                plain.completed().model_copy(update={"next_service_due": date(2027, 11, 23)}),
                follow_up.completed().model_copy(
                    update={"follow_up_needed": True, "follow_up_reason": "Flue corroded"}
                ),
                incomplete,
            ]
        )

    async def prepare(self, conn, story):
        site = JobStory().site
        await conn.execute(
            customers.insert().values(customer_id="cust-test", name="Test Ltd", billing_address="x")
        )
        await conn.execute(
            sites.insert().values(
                site_id=site.site_id,
                customer_id="cust-test",
                name="HQ",
                address=site.address,
                lat=site.location.lat,
                lon=site.location.lon,
                time_zone=site.time_zone,
                access_instructions="",
            )
        )
        await conn.execute(
            assets.insert().values(
                asset_id="asset-1",
                customer_id="cust-test",
                site_id=site.site_id,
                asset_type="boiler",
            )
        )
        for work_order_id in sorted({e.subject for e in story}):
            await conn.execute(
                work_orders.insert().values(
                    work_order_id=work_order_id,
                    customer_id="cust-test",
                    site_id=site.site_id,
                    asset_id="asset-1",
                    channel="phone",
                    job_type="boiler_service",
                    description="No heating",
                    priority="P2",
                    status="released",
                    logged_at=T0,
                    logged_by="office",
                    respond_by=T0 + timedelta(hours=4),
                    resolve_by=T0 + timedelta(hours=24),
                    version=2,
                    updated_at=T0,
                )
            )

    async def snapshot(self, conn):
        appended = await conn.execute(
            select(
                events.c.stream_id, events.c.stream_version, events.c.event_type, events.c.event_id
            ).order_by(events.c.stream_id, events.c.stream_version)
        )
        return {
            "work_orders": await rows_of(conn, work_orders, order_by="work_order_id"),
            "plans": await rows_of(conn, maintenance_plans, order_by="plan_id"),
            "events": [tuple(r) for r in appended],
        }

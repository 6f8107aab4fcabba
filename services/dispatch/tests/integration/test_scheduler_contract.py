"""dispatch.scheduler runs the shared consumer contract suite."""

from datetime import UTC, date, datetime, time

from sqlalchemy import select

from jobstream.contracts.common import Certification, GeoPoint, SkillLevel
from jobstream.contracts.dispatch import Shift, TechnicianProfile
from jobstream.dispatch import handlers
from jobstream.dispatch.app import consumers
from jobstream.dispatch.config import DispatchSettings
from jobstream.dispatch.db.tables import consumer_tables, events, jobs
from jobstream.dispatch.domain.commands import RegisterTechnician
from jobstream.testing.builders import JobStory, envelopes, rows_of
from jobstream.testing.contract_suite import ConsumerContract

ROUND_THE_CLOCK = tuple(Shift(weekday=d, start=time(0), end=time(23, 59)) for d in range(7))


class TestSchedulerContract(ConsumerContract):
    migrations = "jobstream.dispatch.db:migrations"
    tables = consumer_tables

    def consumer_spec(self):
        return consumers(None)[0]

    def scenario(self):
        stories = [JobStory() for _ in range(3)]
        unqualified = JobStory(skills=("hvac",), certifications=("f_gas",))
        return envelopes(
            [s.released() for s in stories] + [unqualified.released()] + [stories[0].completed()]
        )

    async def prepare(self, conn, story):
        for i, (lat, lon) in enumerate([(53.48, -2.24), (53.40, -2.98)]):
            profile = TechnicianProfile(
                name=f"Tech {i}",
                skills=(SkillLevel(name="gas_boiler"),),
                certifications=(Certification(name="gas_safe", expires_on=date(2030, 1, 1)),),
                home_base=GeoPoint(lat=lat, lon=lon),
                shifts=ROUND_THE_CLOCK,
            )
            await handlers.register_technician(
                RegisterTechnician(f"tech-{i}", profile, datetime(2026, 1, 1, tzinfo=UTC)),
                handlers.Context(conn, DispatchSettings()),
            )

    async def snapshot(self, conn):
        decisions = await conn.execute(
            select(
                events.c.event_id,
                events.c.stream_id,
                events.c.stream_version,
                events.c.event_type,
                events.c.data,
                events.c.causation_id,
                events.c.occurred_at,
            )
            .where(~events.c.stream_id.startswith("technician-"))
            .order_by(events.c.position)
        )
        return {
            "jobs": await rows_of(conn, jobs, order_by="work_order_id"),
            "events": [dict(r._mapping) for r in decisions],
        }

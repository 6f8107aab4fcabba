"""dispatch.scheduler runs the shared consumer contract suite."""

from datetime import UTC, date, datetime

from jobstream.contracts.common import Certification, GeoPoint, SkillLevel
from jobstream.contracts.dispatch import TechnicianProfile, TechnicianRegistered
from jobstream.dispatch.app import consumers
from jobstream.dispatch.db import queries
from jobstream.dispatch.db.tables import consumer_tables, events, jobs
from jobstream.testing.builders import JobStory, envelopes, rows_of
from jobstream.testing.contract_suite import ConsumerContract


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
            await queries.upsert_technician(
                conn,
                TechnicianRegistered(
                    technician_id=f"tech-{i}",
                    profile=TechnicianProfile(
                        name=f"Tech {i}",
                        skills=(SkillLevel(name="gas_boiler"),),
                        certifications=(
                            Certification(name="gas_safe", expires_on=date(2030, 1, 1)),
                        ),
                        home_base=GeoPoint(lat=lat, lon=lon),
                    ),
                    registered_at=datetime(2026, 1, 1, tzinfo=UTC),
                ),
            )

    async def snapshot(self, conn):
        return {
            "jobs": await rows_of(conn, jobs, order_by="work_order_id"),
            "events": await rows_of(
                conn,
                events,
                exclude=("position", "recorded_at", "published_at"),
                order_by="position",
            ),
        }

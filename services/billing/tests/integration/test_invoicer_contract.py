"""billing.projector runs the shared consumer contract suite on its first generation."""

from harness import MIGRATIONS, Story

from jobstream.billing.db import generations
from jobstream.billing.db.tables import consumer_tables, events, invoices, jobs
from jobstream.billing.worker import consumer_spec
from jobstream.db import async_engine
from jobstream.testing.builders import envelopes, rows_of
from jobstream.testing.contract_suite import ConsumerContract


class TestProjectorContract(ConsumerContract):
    migrations = MIGRATIONS
    tables = consumer_tables

    def consumer_spec(self):
        return consumer_spec(1)

    async def _fresh_engine(self, database_factory, story):
        # The projection's tables live in the active generation's schema.
        engine = async_engine(database_factory(self.migrations))
        generation = await generations.ensure_active(engine)
        return generations.engine_for(engine, generation)

    def scenario(self):
        stories = [Story(), Story(priority="P1"), Story(priority="P4")]
        out = []
        for i, story in enumerate(stories):
            out += [
                story.released(),
                story.time_logged(30 + 15 * i),
                story.material_used("VALVE-15", 1000 * (i + 1)),
                story.completed(30 + 15 * i),
            ]
        out.insert(0, stories[0].technician_registered())
        out.append(stories[0].material_corrected(0))
        return envelopes(out)

    async def snapshot(self, conn):
        return {
            "invoices": await rows_of(conn, invoices, order_by="invoice_number"),
            "jobs": await rows_of(conn, jobs, order_by="work_order_id"),
            "events": await rows_of(
                conn,
                events,
                exclude=("position", "recorded_at", "published_at"),
                order_by="event_id",
            ),
        }

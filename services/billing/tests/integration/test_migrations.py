"""billing's migrations and a generation's schema match the models exactly."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine

from jobstream.billing.db import generations
from jobstream.billing.db.tables import PROJECTION_NAMING, metadata, projection_metadata
from jobstream.db import async_engine
from jobstream.settings import normalise_database_url
from jobstream.testing.schema_drift import schema_differences

pytestmark = pytest.mark.integration


def test_migrations_match_the_write_side_models(database_factory):
    url = database_factory("jobstream.billing.db:migrations")
    assert schema_differences(url, metadata) == []


async def test_a_new_generation_has_exactly_the_projection_models(database_factory):
    url = database_factory("jobstream.billing.db:migrations")
    engine = async_engine(url)
    generation = await generations.create(engine)
    await engine.dispose()
    expected = MetaData(naming_convention=PROJECTION_NAMING)
    for table in projection_metadata.sorted_tables:
        table.to_metadata(expected, schema=generation.schema)
    sync = create_engine(normalise_database_url(url))
    with sync.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_schemas": True,
                "include_name": lambda name, kind, _parent: (
                    kind != "schema" or name == generation.schema
                ),
            },
        )
        assert list(compare_metadata(context, expected)) == []
    sync.dispose()

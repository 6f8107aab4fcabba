"""reporting's Alembic migrations produce exactly the schema its models describe."""

import pytest

from jobstream.reporting.db.tables import metadata
from jobstream.testing.schema_drift import schema_differences

pytestmark = pytest.mark.integration


def test_migrations_match_the_models(database_factory):
    url = database_factory("jobstream.reporting.db:migrations")
    assert schema_differences(url, metadata) == []

"""Every migration is an expand step the previous release's code can run against.

During a rolling upgrade the new release migrates first and the old one keeps running on the
migrated schema (docs/operations/rolling-upgrades.md, docs/adr/0082). So each Alembic
revision, applied to its parent's schema on a real PostgreSQL, must keep every table and
column the parent had with the same type (or a wider one) and no tighter nullability, and
may add only what old code can ignore: new tables, nullable columns or ones with a server
default, and no new unique, check or foreign-key constraint on a table old code writes.

The parent's schema is what the previous release's code expects, exactly: each service's
drift test holds its models equal to its migrated head at every commit.

Dropping (the contract step) is allowed only when the migration declares it, naming the
earlier revision in whose release the code stopped using the object, e.g.
``CONTRACTS = {"jobs.legacy_note": "0004"}``: never in the same revision, and the object
must still exist at the named one.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from alembic import command
from alembic.script import Script, ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.dialects import postgresql

from jobstream.db import alembic_config
from jobstream.settings import normalise_database_url

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SERVICE_MIGRATIONS = sorted(
    f"jobstream.{path.parents[2].name}.db:migrations"
    for path in REPO.glob("services/*/src/jobstream/*/db/migrations/env.py")
)
# Type changes an old release's writes and reads survive.
WIDENINGS = {
    ("SMALLINT", "INTEGER"),
    ("SMALLINT", "BIGINT"),
    ("INTEGER", "BIGINT"),
    ("VARCHAR", "TEXT"),
    ("REAL", "DOUBLE PRECISION"),
}


@dataclass(frozen=True)
class ColumnShape:
    """What old code relies on in one column."""

    type: str
    nullable: bool
    has_default: bool


@dataclass
class SchemaShape:
    """A database's tables as old code sees them."""

    columns: dict[str, dict[str, ColumnShape]] = field(default_factory=dict)
    # Unique, check and foreign-key constraints (unique indexes included), by table: each may
    # refuse a write.
    guards: dict[str, set[str]] = field(default_factory=dict)


def reflect(url: str) -> SchemaShape:
    """The shape of the migrated database at ``url``."""
    engine = create_engine(normalise_database_url(url))
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    shape = SchemaShape()
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            for table in found.get_table_names():
                if table == "alembic_version":
                    continue
                shape.columns[table] = {
                    c["name"]: ColumnShape(
                        type=c["type"].compile(dialect=dialect),
                        nullable=bool(c["nullable"]),
                        has_default=c.get("default") is not None or bool(c.get("identity")),
                    )
                    for c in found.get_columns(table)
                }
                guards = {
                    f"unique({', '.join(str(n) for n in u['column_names'])})"
                    for u in found.get_unique_constraints(table)
                }
                guards |= {
                    f"unique index({', '.join(str(n) for n in i['column_names'])})"
                    for i in found.get_indexes(table)
                    if i.get("unique")
                }
                guards |= {f"check({c['sqltext']})" for c in found.get_check_constraints(table)}
                guards |= {
                    f"foreign key({', '.join(fk['constrained_columns'])}) -> {fk['referred_table']}"
                    for fk in found.get_foreign_keys(table)
                }
                shape.guards[table] = guards
    finally:
        engine.dispose()
    return shape


def _widened(old: str, new: str) -> bool:
    base_old, base_new = old.split("(")[0], new.split("(")[0]
    if (base_old, base_new) in WIDENINGS:
        return True
    if base_old == base_new == "VARCHAR" and "(" in old:
        # VARCHAR(n) -> VARCHAR(m >= n) or VARCHAR: longer values only.
        return "(" not in new or int(new[8:-1]) >= int(old[8:-1])
    return False


def _column_problems(table: str, name: str, was: ColumnShape, now: ColumnShape) -> list[str]:
    problems = []
    if now.type != was.type and not _widened(was.type, now.type):
        problems.append(f"column {table}.{name} changed type {was.type} -> {now.type}")
    if was.nullable and not now.nullable:
        problems.append(f"column {table}.{name} became NOT NULL")
    return problems


def _table_problems(
    table: str, before: SchemaShape, after: SchemaShape, contracted: frozenset[str]
) -> list[str]:
    columns, now = before.columns[table], after.columns[table]
    problems: list[str] = []
    for name, was in columns.items():
        if name in now:
            problems += _column_problems(table, name, was, now[name])
        elif f"{table}.{name}" not in contracted:
            problems.append(f"column {table}.{name} dropped (or renamed)")
    problems += [
        f"column {table}.{name} added NOT NULL without a default "
        "(the previous release's inserts leave it out)"
        for name, column in now.items()
        if name not in columns and not column.nullable and not column.has_default
    ]
    problems += [
        f"table {table} gained {guard} (may refuse the previous release's writes)"
        for guard in sorted(after.guards.get(table, set()) - before.guards.get(table, set()))
    ]
    return problems


def expand_problems(
    before: SchemaShape, after: SchemaShape, contracted: frozenset[str] = frozenset()
) -> list[str]:
    """Why code that ran on ``before`` may fail on ``after`` (``contracted``: declared drops)."""
    problems: list[str] = []
    for table in before.columns:
        if table in after.columns:
            problems += _table_problems(table, before, after, contracted)
        elif table not in contracted:
            problems.append(f"table {table} dropped (or renamed)")
    return problems


def revisions(script_location: str, url: str) -> list[Script]:
    """The service's revisions oldest first; the history must be one line."""
    script = ScriptDirectory.from_config(alembic_config(script_location, url))
    line = list(reversed(list(script.walk_revisions())))
    assert all(not isinstance(r.down_revision, tuple) for r in line), "branched history"
    return line


def declared_contracts(revision: Script) -> dict[str, str]:
    return dict(getattr(revision.module, "CONTRACTS", {}))


def check_history(script_location: str, url: str) -> list[str]:
    """Apply every revision in turn; what each breaks for the code of the one before."""
    cfg = alembic_config(script_location, url)
    problems: list[str] = []
    shapes: dict[str, SchemaShape] = {}
    before = SchemaShape()
    for revision in revisions(script_location, url):
        command.upgrade(cfg, revision.revision)
        after = reflect(url)
        contracts = declared_contracts(revision)
        for thing, retired_at in contracts.items():
            # ``shapes`` holds only the revisions before this one: its own is refused too.
            if retired_at not in shapes:
                problems.append(
                    f"{revision.revision}: drops {thing}, retired at {retired_at!r}, which is "
                    "not an earlier revision (drop only what an earlier release stopped using)"
                )
                continue
            table, _, column = thing.partition(".")
            still = shapes[retired_at].columns.get(table, {})
            if not still or (column and column not in still):
                problems.append(f"{revision.revision}: {thing} did not exist at {retired_at}")
        problems += [
            f"{revision.revision}: {p}"
            for p in expand_problems(before, after, frozenset(contracts))
        ]
        shapes[revision.revision] = before = after
    return problems


@pytest.mark.parametrize("script_location", SERVICE_MIGRATIONS)
def test_each_migration_keeps_the_previous_releases_schema_working(
    database_factory, script_location
):
    assert len(SERVICE_MIGRATIONS) == 6, SERVICE_MIGRATIONS
    url = database_factory(None)
    assert check_history(script_location, url) == []


# -- the check itself, on migrations written to fail it ------------------------------------


ENV = """
from alembic import context
from sqlalchemy import MetaData

from jobstream.db import run_alembic_env

run_alembic_env(context, MetaData())
"""


def write_history(directory: Path, *steps: tuple[str, str]) -> str:
    """An Alembic script directory whose revisions 0001, 0002 … have these bodies."""
    (directory / "versions").mkdir(parents=True)
    (directory / "env.py").write_text(ENV)
    previous = None
    for number, (upgrade, extra) in enumerate(steps, start=1):
        revision = f"{number:04d}"
        body = textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
        (directory / "versions" / f"{revision}_step.py").write_text(
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {revision!r}\ndown_revision = {previous!r}\n"
            f"branch_labels = None\ndepends_on = None\n{extra}\n\n"
            f"def upgrade() -> None:\n{body}\n"
        )
        previous = revision
    return str(directory)


CREATE = (
    """
    op.create_table(
        "jobs",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("visits", sa.Integer(), nullable=True),
    )
    """,
    "",
)


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ('op.drop_column("jobs", "note")', "0002: column jobs.note dropped (or renamed)"),
        (
            'op.alter_column("jobs", "note", new_column_name="remark")',
            "0002: column jobs.note dropped (or renamed)",
        ),
        ('op.drop_table("jobs")', "0002: table jobs dropped (or renamed)"),
        (
            'op.add_column("jobs", sa.Column("state", sa.Text(), nullable=False))',
            "0002: column jobs.state added NOT NULL without a default "
            "(the previous release's inserts leave it out)",
        ),
        (
            'op.alter_column("jobs", "visits", type_=sa.Text())',
            "0002: column jobs.visits changed type INTEGER -> TEXT",
        ),
        (
            'op.alter_column("jobs", "note", nullable=False)',
            "0002: column jobs.note became NOT NULL",
        ),
        (
            'op.create_unique_constraint("uq_jobs_note", "jobs", ["note"])',
            "0002: table jobs gained unique(note) (may refuse the previous release's writes)",
        ),
        (
            """
            op.create_table("notes", sa.Column("id", sa.Text(), primary_key=True))
            op.create_foreign_key("fk_jobs_note", "jobs", "notes", ["note"], ["id"])
            """,
            "0002: table jobs gained foreign key(note) -> notes "
            "(may refuse the previous release's writes)",
        ),
        (
            'op.create_check_constraint("ck_jobs_visits", "jobs", "visits >= 0")',
            "0002: table jobs gained check(visits >= 0) (may refuse the previous release's writes)",
        ),
    ],
)
def test_a_step_the_previous_release_cannot_run_against_is_caught(
    database_factory, tmp_path, step, problem
):
    location = write_history(tmp_path / "migrations", CREATE, (step, ""))
    assert problem in check_history(location, database_factory(None))


def test_expand_steps_pass_the_check(database_factory, tmp_path):
    location = write_history(
        tmp_path / "migrations",
        CREATE,
        (
            """
            op.add_column("jobs", sa.Column("rating", sa.SmallInteger(), nullable=True))
            op.add_column(
                "jobs", sa.Column("state", sa.Text(), nullable=False, server_default="open")
            )
            op.alter_column("jobs", "visits", type_=sa.BigInteger())
            op.create_table("notes", sa.Column("id", sa.Text(), primary_key=True))
            """,
            "",
        ),
    )
    assert check_history(location, database_factory(None)) == []


def test_a_declared_drop_of_what_an_earlier_release_retired_passes(database_factory, tmp_path):
    location = write_history(
        tmp_path / "migrations",
        CREATE,
        ('op.create_table("notes", sa.Column("id", sa.Text(), primary_key=True))', ""),
        ('op.drop_column("jobs", "note")', 'CONTRACTS = {"jobs.note": "0002"}'),
    )
    assert check_history(location, database_factory(None)) == []


def test_a_drop_declared_as_retired_in_its_own_revision_is_refused(database_factory, tmp_path):
    location = write_history(
        tmp_path / "migrations",
        CREATE,
        ('op.drop_column("jobs", "note")', 'CONTRACTS = {"jobs.note": "0002"}'),
    )
    assert check_history(location, database_factory(None)) == [
        "0002: drops jobs.note, retired at '0002', which is not an earlier revision "
        "(drop only what an earlier release stopped using)"
    ]


def test_a_drop_declared_retired_where_the_column_did_not_exist_is_refused(
    database_factory, tmp_path
):
    location = write_history(
        tmp_path / "migrations",
        CREATE,
        ('op.add_column("jobs", sa.Column("legacy", sa.Text(), nullable=True))', ""),
        ('op.create_table("notes", sa.Column("id", sa.Text(), primary_key=True))', ""),
        ('op.drop_column("jobs", "legacy")', 'CONTRACTS = {"jobs.legacy": "0001"}'),
    )
    assert check_history(location, database_factory(None)) == [
        "0004: jobs.legacy did not exist at 0001"
    ]

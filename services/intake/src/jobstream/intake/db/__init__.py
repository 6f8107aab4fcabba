"""Intake's database: tables, queries and packaged Alembic migrations."""

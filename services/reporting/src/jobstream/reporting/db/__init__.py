"""Reporting's database: projections, queries and packaged Alembic migrations."""

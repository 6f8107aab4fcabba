"""Fieldupdates' database: tables, queries and packaged Alembic migrations."""

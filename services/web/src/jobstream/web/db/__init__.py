"""The front door's database: accounts, sessions, audit; packaged Alembic migrations."""

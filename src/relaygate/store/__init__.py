"""Persistence, and all of relaygate's SQL: SQLAlchemy Core tables, the engine, repositories,
usage reports and writers, and Alembic migrations."""

"""Persistence: SQLAlchemy Core tables, the engine, repositories and Alembic migrations."""

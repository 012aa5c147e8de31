"""Persistence: SQLAlchemy models, Alembic migrations, the batch observation writer, the media store,
plate search (with its indexes) and hotlist entries and alerts."""

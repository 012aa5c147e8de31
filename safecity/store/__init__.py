"""Persistence: SQLAlchemy models, Alembic migrations, the batch observation writer, and the media store."""

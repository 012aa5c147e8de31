"""Persistence: SQLAlchemy models, Alembic migrations, the batch observation writer, the media store,
plate search (with its indexes), hotlist entries and alerts, authorisations, face watchlists and
their alerts, the FAISS index of kept face vectors, and the monthly PostgreSQL partitions of the
observation tables."""

"""Storage: SQLAlchemy 2 models, Alembic migrations, repositories. SQLite is the embedded default."""

from vigil.store.db import Database, default_db_path, open_database

__all__ = ["Database", "default_db_path", "open_database"]

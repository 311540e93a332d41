"""Storage: SQLAlchemy 2 models, Alembic migrations, repositories. SQLite is the embedded default.

Names are imported on first use, so the SQLAlchemy-free read path (`vigil.store.setfolder`) stays
light."""

from __future__ import annotations

__all__ = ["Database", "default_db_path", "open_database"]


def __getattr__(name: str):
    if name in __all__:
        from vigil.store import db

        return getattr(db, name)
    raise AttributeError(name)

"""Exchange tests use the API tests' databases and organisations (SQLite and the real PostgreSQL)."""

from tests.api.conftest import PASSWORD, app, client, db_url, example, make_org  # noqa: F401

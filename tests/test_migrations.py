"""Migrations build the whole schema on an empty database, and match the models exactly."""

import pytest

from sqlalchemy import inspect
from sqlmodel import SQLModel

from app.config import Settings
from app.db import make_engine
from app.migrate import downgrade, pending_changes, upgrade
from tests.conftest import TEST_SECRET


def _empty_database(request, tmp_path) -> str:
    backend = request.node.callspec.params["backend"]
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"empty_{tmp_path.name[-20:].lower().replace('-', '_')}")



@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_upgrade_empty_database_to_head_with_no_pending_diff(request, tmp_path, backend):
    engine = make_engine(Settings(_env_file=None, database_url=_empty_database(request, tmp_path), secret_key=TEST_SECRET))
    try:
        assert inspect(engine).get_table_names() == []
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        assert pending_changes(engine) == []
        downgrade(engine, "base")  # downgrades work too
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert pending_changes(engine) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_throttle_scopes_keep_recent_failures_for_what_they_were(request, tmp_path, backend):
    import hashlib

    from sqlalchemy import text

    engine = make_engine(Settings(_env_file=None, database_url=_empty_database(request, tmp_path), secret_key=TEST_SECRET))
    try:
        upgrade(engine, "7293a4fd835b")
        digest = lambda value: hashlib.sha256(value.encode()).hexdigest()  # noqa: E731
        with engine.begin() as connection:
            insert = text("INSERT INTO login_failures (account_key, address, created_at) VALUES (:k, :a, CURRENT_TIMESTAMP)")
            connection.execute(insert, {"k": digest("maya"), "a": "203.0.113.5"})
            connection.execute(insert, {"k": digest("invite:203.0.113.5"), "a": "203.0.113.5"})
        upgrade(engine, "i10_throttle_scopes")
        with engine.connect() as connection:
            rows = set(connection.execute(text("SELECT scope, account_key FROM login_failures")).all())
        assert rows == {("sign-in", digest("maya")), ("invitation-code", None)}
        downgrade(engine, "7293a4fd835b")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT account_key FROM login_failures")).scalars().all() == [digest("maya")]
    finally:
        engine.dispose()

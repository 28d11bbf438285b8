"""Applying and checking Alembic migrations from Python (used by `folio migrate` and the tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.config import PROJECT_ROOT


# PostgreSQL's search column is generated from title and body by a function the migration creates
# (migrations/versions/*_i11_search_accents.py); the models describe neither it nor its GIN index.
SEARCH_INDEXES = ("ix_items_search",)
SEARCH_COLUMNS = ("search_document",)


def include_name(name, type_, parent_names) -> bool:
    """Leave out what the models don't describe on purpose: SQLite's FTS5 search tables, PostgreSQL's search column
    and its index."""
    if type_ == "index":
        return name not in SEARCH_INDEXES
    if type_ == "column":
        return not (parent_names.get("table_name") == "items" and name in SEARCH_COLUMNS)
    return not (type_ == "table" and name and name.startswith(("items_fts", "timeline_fts")))


@contextmanager
def foreign_keys_off(connection: Connection) -> Iterator[None]:
    """On SQLite, run migrations with foreign keys off, then check them all.

    Rebuilding a table (SQLite's only way to change most things) drops the old one, and with foreign keys on that
    drop would cascade into every table pointing at it. SQLite ignores the pragma inside a transaction, so this
    wraps the whole migration; a violation left behind fails it loudly."""
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        yield
        problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"The migration left rows pointing at nothing: {problems[:10]}")
    finally:
        connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def alembic_config() -> Config:
    """Alembic's configuration, from [tool.alembic] in pyproject.toml."""
    return Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind `engine` up to `revision`."""
    config = alembic_config()
    with engine.connect() as connection, foreign_keys_off(connection), connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database behind `engine` back to `revision` ("base" for empty)."""
    config = alembic_config()
    with engine.connect() as connection, foreign_keys_off(connection), connection.begin():
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def pending_changes(engine: Engine) -> list:
    """What autogenerate would still add: empty when the migrations match the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "target_metadata": SQLModel.metadata, "include_name": include_name}
        )
        return compare_metadata(context, SQLModel.metadata)

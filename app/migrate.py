"""Applying and checking Alembic migrations from Python (used by `folio migrate` and the tests)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.config import PROJECT_ROOT


def include_name(name, type_, _parent_names) -> bool:
    """Leave out what the models don't describe on purpose: SQLite's FTS5 search tables."""
    return not (type_ == "table" and name and name.startswith("timeline_fts"))


def alembic_config() -> Config:
    """Alembic's configuration, from [tool.alembic] in pyproject.toml."""
    return Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind `engine` up to `revision`."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database behind `engine` back to `revision` ("base" for empty)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def pending_changes(engine: Engine) -> list:
    """What autogenerate would still add: empty when the migrations match the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "target_metadata": SQLModel.metadata, "include_name": include_name}
        )
        return compare_metadata(context, SQLModel.metadata)

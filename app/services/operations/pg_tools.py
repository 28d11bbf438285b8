"""Finding PostgreSQL's client programs (pg_dump, pg_restore) and giving them a URL they understand."""

from __future__ import annotations

import glob
import re
import shutil
from pathlib import Path

from sqlalchemy.engine import make_url


class MissingTool(Exception):
    """A PostgreSQL client program is not installed."""


def pg_tool(name: str) -> Path:
    """The newest installed copy of a PostgreSQL client program (Debian keeps one per version)."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda path: [int(part) for part in re.findall(r"\d+", path)])
    if candidates:
        return Path(candidates[-1])
    found = shutil.which(name)
    if found:
        return Path(found)
    raise MissingTool(f"{name} is not installed: install PostgreSQL's client programs (Debian: postgresql-client).")


def libpq_url(sqlalchemy_url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://...) as libpq writes it (postgresql://...)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)

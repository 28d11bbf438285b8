"""Which stored files the database points at: the one list that backups and file checks read."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

# Every column that holds the name of a file under the upload store. A new file column is added here, or backups
# would skip its files and the orphan check would call them orphans.
FILE_COLUMNS: dict[str, tuple[str, ...]] = {
    "artefacts": ("stored_name", "thumb_small", "thumb_large", "thumb_print"),
}


def referenced_names(connection: Connection) -> set[str]:
    """The names of all files some row references, read in the connection's current transaction."""
    names: set[str] = set()
    for table, columns in FILE_COLUMNS.items():
        for column in columns:
            rows = connection.execute(sa.text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"))
            names.update(name for (name,) in rows if name)
    return names

"""search accents and scale: PostgreSQL search ignores accents like SQLite's, through a GIN index; indexes the
district-scale benchmark (bench/scale.py) showed missing

PostgreSQL: the `unaccent` extension (trusted since PostgreSQL 13, so the database owner may create it), an
IMMUTABLE wrapper `folio_unaccent(text)` (unaccent() itself is only STABLE, so it can't be indexed) and
`folio_search_document(title, body)`, the weighted tsvector search looks through (title A, body D), kept in the
stored generated column items.search_document (PostgreSQL-only, so not in the model) with a GIN index over it.

Without the extension the migration stops with a message saying what to install or whom to ask: silently falling
back to accent-sensitive search would make the two databases answer differently, which is the bug this fixes.

Both databases: artefacts (owner_id, occurred_on, id) replaces the index on owner_id alone, so the class overview's
latest evidence per student is read from the index instead of one row (one page) per artefact.

SQLite: items_fts already uses `unicode61 remove_diacritics 2` (made so in i10_items), which folds accents on both
the indexed text and the query, so there is nothing to rebuild.

Revision ID: i11_search_accents
Revises: i11_photo_print_copy
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "i11_search_accents"
down_revision: Union[str, Sequence[str], None] = "i11_photo_print_copy"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SEARCH_INDEX = "ix_items_search"
SEARCH_COLUMN = "search_document"

MISSING_UNACCENT = (
    "Folio's search needs PostgreSQL's `unaccent` extension, and it could not be created here ({error}). "
    "It ships with PostgreSQL's contrib modules (Debian/Ubuntu: part of the postgresql package; other systems: "
    "postgresql-contrib; the official Docker image has it). Since PostgreSQL 13 the database's owner may create it; "
    "otherwise ask a superuser to run `CREATE EXTENSION unaccent;` in this database, then migrate again."
)


def _create_unaccent(bind) -> str:
    """Create the extension if needed; the schema it lives in (functions must name it: see below)."""
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
    except sa.exc.DBAPIError as exc:
        error = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise RuntimeError(MISSING_UNACCENT.format(error=error)) from exc
    return bind.exec_driver_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'").scalar_one()


def upgrade() -> None:
    op.create_index("ix_artefacts_owner_when", "artefacts", ["owner_id", "occurred_on", "id"], unique=False)
    op.drop_index("ix_artefacts_owner_id", table_name="artefacts")
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    unaccent_schema = _create_unaccent(bind)
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    # Names are schema-qualified inside the bodies: an index expression is re-evaluated under whatever search_path
    # a session (or pg_restore, which empties it) has, and SQL functions are inlined into the caller's query.
    op.execute(f"""
        CREATE FUNCTION "{schema}".folio_unaccent(text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT "{unaccent_schema}".unaccent('"{unaccent_schema}".unaccent'::regdictionary, $1) $$
    """)
    op.execute(f"""
        CREATE FUNCTION "{schema}".folio_search_document(title text, body text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT setweight(to_tsvector('simple'::regconfig, "{schema}".folio_unaccent(coalesce(title, ''))), 'A')
                  || to_tsvector('simple'::regconfig, "{schema}".folio_unaccent(coalesce(body, ''))) $$
    """)
    # Stored, not computed per query: unaccent through a SQL wrapper costs ~0.1 ms a row, which a search filtering a
    # student's items (the planner's usual choice) paid for every one of them, twice (count and page).
    op.execute(f"ALTER TABLE items ADD COLUMN {SEARCH_COLUMN} tsvector "
               f"GENERATED ALWAYS AS (folio_search_document(title, body)) STORED")
    op.execute(f"CREATE INDEX {SEARCH_INDEX} ON items USING gin ({SEARCH_COLUMN})")


def downgrade() -> None:
    op.create_index("ix_artefacts_owner_id", "artefacts", ["owner_id"], unique=False)
    op.drop_index("ix_artefacts_owner_when", table_name="artefacts")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")
    op.execute(f"ALTER TABLE items DROP COLUMN IF EXISTS {SEARCH_COLUMN}")
    op.execute("DROP FUNCTION IF EXISTS folio_search_document(text, text)")
    op.execute("DROP FUNCTION IF EXISTS folio_unaccent(text)")
    # The extension stays: it may predate Folio (made by a superuser) or serve other things in this database.

"""OneRoster sourcedIds: users, classes and school_terms remember the student information system's id of what a
roster import made, unique within a school, so importing the same set again finds them instead of duplicating.

Revision ID: i12_oneroster_ids
Revises: i16_stored_bytes
Create Date: 2026-12-11
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "i12_oneroster_ids"
down_revision: Union[str, Sequence[str], None] = "i16_stored_bytes"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("users", "classes", "school_terms")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("sourced_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
            batch.create_unique_constraint(f"uq_{table}_school_sourced_id", ["school_id", "sourced_id"])


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_school_sourced_id", type_="unique")
            batch.drop_column("sourced_id")

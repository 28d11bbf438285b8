"""edit versions: a version column on everything a person edits in a form (optimistic locking, as reflections and
showcases already have), so a save from a second tab is refused instead of silently overwriting the first.

Existing rows start at version 1, like new ones.

Revision ID: i16_edit_versions
Revises: i11_search_accents
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "i16_edit_versions"
down_revision: Union[str, Sequence[str], None] = "i11_search_accents"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("artefacts", "goals", "goal_steps", "frameworks", "competencies", "proficiency_levels", "classes",
          "showcase_items", "conference_slots")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")

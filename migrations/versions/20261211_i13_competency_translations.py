"""competency_translations and proficiency_level_translations: a framework's words in other languages

Revision ID: i13_competency_translations
Revises: i15_digest_claims
Create Date: 2026-12-11
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "i13_competency_translations"
down_revision: Union[str, Sequence[str], None] = "i15_digest_claims"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "competency_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["competency_id"], ["competencies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("competency_id", "locale"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("competency_translations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_competency_translations_competency_id"), ["competency_id"], unique=False)
    op.create_table(
        "proficiency_level_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level_id", sa.Integer(), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("descriptor", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["level_id"], ["proficiency_levels.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("level_id", "locale"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("proficiency_level_translations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proficiency_level_translations_level_id"), ["level_id"], unique=False)


def downgrade() -> None:
    op.drop_table("proficiency_level_translations")
    op.drop_table("competency_translations")

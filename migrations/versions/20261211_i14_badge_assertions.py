"""badge_assertions: Open Badges found baked into uploaded images, kept beside the cleaned image

Revision ID: i14_badge_assertions
Revises: i14_badges
Create Date: 2026-12-11
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "i14_badge_assertions"
down_revision: Union[str, Sequence[str], None] = "i14_badges"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "badge_assertions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("artefact_id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("issuer_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("issuer_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("achievement_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("criteria_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("verification", sa.Enum("verified", "does_not_verify", "revoked", "needs_internet", "cannot_check",
                                          "unreadable", name="badgecheck", native_enum=False, length=20),
                  nullable=False),
        sa.Column("checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["artefact_id"], ["artefacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("artefact_id"),
    )


def downgrade() -> None:
    op.drop_table("badge_assertions")

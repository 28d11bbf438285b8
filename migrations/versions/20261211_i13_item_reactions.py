"""item_reactions: a guardian's quick reactions (heart, clap, star, wow) on their child's items

Revision ID: i13_item_reactions
Revises: i13_competency_translations
Create Date: 2026-12-11
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "i13_item_reactions"
down_revision: Union[str, Sequence[str], None] = "i13_competency_translations"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "item_reactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("heart", "clap", "star", "wow", name="reactionkind", native_enum=False, length=20),
                  nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "user_id", "kind", name="uq_item_reactions_item_user_kind"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("item_reactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_reactions_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_item_reactions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("item_reactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_reactions_user_id"))
        batch_op.drop_index(batch_op.f("ix_item_reactions_item_id"))
    op.drop_table("item_reactions")

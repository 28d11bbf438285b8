"""Moving in from Mahara: tags on reflections and goals (reflection_tags, goal_tags: the owner's tags, as on
artefacts), and users.about, the account's "About me" (Mahara's profile introduction comes in there).

Revision ID: i12_mahara_tags_about
Revises: i13_audio_captions
Create Date: 2026-12-11
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "i12_mahara_tags_about"
down_revision: Union[str, Sequence[str], None] = "i13_audio_captions"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("about", sa.Text(), server_default="", nullable=False))
    for table, column, target in (("reflection_tags", "reflection_id", "reflections"), ("goal_tags", "goal_id", "goals")):
        op.create_table(
            table,
            sa.Column(column, sa.Integer(), nullable=False),
            sa.Column("tag_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint(column, "tag_id"),
        )
        with op.batch_alter_table(table) as batch:
            batch.create_index(batch.f(f"ix_{table}_tag_id"), ["tag_id"], unique=False)


def downgrade() -> None:
    for table in ("goal_tags", "reflection_tags"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(batch.f(f"ix_{table}_tag_id"))
        op.drop_table(table)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("about")

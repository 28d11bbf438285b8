"""import keys: import_keys records what each import of an archive created (an item per archive entry), so an
import run again after a crash carries on instead of duplicating, and a file imported before is recognised.

Revision ID: i16_import_keys
Revises: i16_edit_versions
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "i16_import_keys"
down_revision: Union[str, Sequence[str], None] = "i16_edit_versions"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "import_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("item_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["student_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("student_id", "scope", "item_key", name="uq_import_keys_scope_key"),
    )
    with op.batch_alter_table("import_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_keys_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("import_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_keys_item_id"))
    op.drop_table("import_keys")

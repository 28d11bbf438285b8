"""showcase credentials: a showcase entry may be one of the student's own credentials

Revision ID: i14_showcase_credentials
Revises: i14_badge_assertions
Create Date: 2026-12-12
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "i14_showcase_credentials"
down_revision: Union[str, Sequence[str], None] = "i14_badge_assertions"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ONE_OF_TWO = "(item_id IS NULL) <> (competency_id IS NULL)"
ONE_OF_THREE = (
    "(CASE WHEN item_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN competency_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN credential_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade() -> None:
    with op.batch_alter_table("showcase_items") as batch_op:
        batch_op.drop_constraint("ck_showcase_items_one_target", type_="check")
    with op.batch_alter_table("showcase_items") as batch_op:
        batch_op.add_column(sa.Column("credential_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_showcase_items_showcase_id_credential_id", ["showcase_id", "credential_id"])
        batch_op.create_foreign_key("fk_showcase_items_credential", "credentials", ["credential_id"], ["id"],
                                    ondelete="CASCADE")
        batch_op.create_check_constraint("ck_showcase_items_one_target", ONE_OF_THREE)
    op.create_index("ix_showcase_items_credential_id", "showcase_items", ["credential_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM showcase_items WHERE credential_id IS NOT NULL")
    op.drop_index("ix_showcase_items_credential_id", table_name="showcase_items")
    with op.batch_alter_table("showcase_items") as batch_op:
        batch_op.drop_constraint("ck_showcase_items_one_target", type_="check")
    with op.batch_alter_table("showcase_items") as batch_op:
        batch_op.drop_constraint("fk_showcase_items_credential", type_="foreignkey")
        batch_op.drop_constraint("uq_showcase_items_showcase_id_credential_id", type_="unique")
        batch_op.drop_column("credential_id")
        batch_op.create_check_constraint("ck_showcase_items_one_target", ONE_OF_TWO)

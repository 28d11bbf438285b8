"""approvals cover the item as approved, and showcases

Revision ID: i10_approval_snapshots
Revises: i10_audit_log
Create Date: 2026-11-24 09:00:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'i10_approval_snapshots'
down_revision: Union[str, Sequence[str], None] = 'i10_audit_log'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ITEM_TYPE = sa.Enum('artefact', 'reflection', 'goal', name='itemtype', native_enum=False, length=20)
ONE_ITEM = ("(item_type IS NOT NULL AND item_id IS NOT NULL AND showcase_id IS NULL)"
            " OR (item_type IS NULL AND item_id IS NULL AND showcase_id IS NOT NULL)")


def upgrade() -> None:
    with op.batch_alter_table('item_approvals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('showcase_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('approved_text', sa.JSON(), nullable=True))
        batch_op.alter_column('item_type', existing_type=ITEM_TYPE, nullable=True)
        batch_op.alter_column('item_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key('fk_item_approvals_showcase_id_showcases', 'showcases', ['showcase_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_unique_constraint('uq_item_approvals_showcase_id', ['showcase_id'])
        batch_op.create_check_constraint('ck_item_approvals_one_item', ONE_ITEM)


def downgrade() -> None:
    op.execute("DELETE FROM item_approvals WHERE showcase_id IS NOT NULL")
    with op.batch_alter_table('item_approvals', schema=None) as batch_op:
        batch_op.drop_constraint('ck_item_approvals_one_item', type_='check')
        batch_op.drop_constraint('uq_item_approvals_showcase_id', type_='unique')
        batch_op.drop_constraint('fk_item_approvals_showcase_id_showcases', type_='foreignkey')
        batch_op.alter_column('item_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('item_type', existing_type=ITEM_TYPE, nullable=False)
        batch_op.drop_column('approved_text')
        batch_op.drop_column('showcase_id')

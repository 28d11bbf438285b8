"""throttle scopes: failures of sign-ins, invitation codes and join codes counted apart

Revision ID: i10_throttle_scopes
Revises: 7293a4fd835b
Create Date: 2026-11-24 10:00:00
"""
import hashlib
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'i10_throttle_scopes'
down_revision: Union[str, Sequence[str], None] = '7293a4fd835b'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        # Rows from before were all sign-ins; the default fills them, then goes (the model sets the value).
        batch_op.add_column(sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False,
                                      server_default='sign-in'))
        batch_op.alter_column('account_key', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.alter_column('scope', server_default=None)
    # Wrong invitation codes were counted under the hash of "invite:<address>": they become what they are.
    bind = op.get_bind()
    for address, key in bind.execute(sa.text("SELECT DISTINCT address, account_key FROM login_failures")).all():
        if key == hashlib.sha256(f"invite:{address}".strip().lower().encode()).hexdigest():
            bind.execute(sa.text("UPDATE login_failures SET scope = 'invitation-code', account_key = NULL "
                                 "WHERE address = :address AND account_key = :key"), {"address": address, "key": key})


def downgrade() -> None:
    # Failures are short-lived (one window): dropping the code ones loses nothing worth a conversion.
    op.execute(sa.text("DELETE FROM login_failures WHERE scope <> 'sign-in' OR account_key IS NULL"))
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.alter_column('account_key', existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.drop_column('scope')

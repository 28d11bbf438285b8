"""status bits: each credential's revocation bit is stored (a list and a random place in it), not derived from its id

Credentials issued before keep the bit their signed document names (list = id // 131072, index = id % 131072).

Revision ID: i17_status_bits
Revises: i16_api_rate_window
Create Date: 2026-12-14
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "i17_status_bits"
down_revision: Union[str, Sequence[str], None] = "i16_api_rate_window"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BITS = 131_072  # app.services.badges.urls.STATUS_LIST_BITS when these credentials were signed


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch_op:
        batch_op.add_column(sa.Column("status_list", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("status_index", sa.Integer(), nullable=True))
    credentials = sa.table("credentials", sa.column("id", sa.Integer), sa.column("status_list", sa.Integer),
                           sa.column("status_index", sa.Integer))
    op.execute(credentials.update().values(status_list=credentials.c.id // BITS, status_index=credentials.c.id % BITS))
    with op.batch_alter_table("credentials") as batch_op:
        batch_op.create_index("ux_credentials_status_bit", ["school_id", "status_list", "status_index"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch_op:
        batch_op.drop_index("ux_credentials_status_bit")
        batch_op.drop_column("status_index")
        batch_op.drop_column("status_list")

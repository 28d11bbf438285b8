"""api rate window: each token's fixed-window request count, so the rate limit holds across processes and hosts

Revision ID: i16_api_rate_window
Revises: i14_showcase_credentials
Create Date: 2026-12-13
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "i16_api_rate_window"
down_revision: Union[str, Sequence[str], None] = "i14_showcase_credentials"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.add_column(sa.Column("rate_window", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("rate_count", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("rate_count")
        batch_op.drop_column("rate_window")

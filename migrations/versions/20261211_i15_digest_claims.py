"""digest_logs become claims: a state (claimed, sent, empty), who claimed it and when, and one row per period start

A run claims a guardian's next period by inserting its row before sending (unique guardian and period start), so
two runs at once send it once; a claim left by a run that died is taken over after a timeout. Rows from before are
sent digests. Two runs at once used to record two periods with the same start (the digest went twice): only the
later one is kept, which is the one the next period starts after.

Revision ID: i15_digest_claims
Revises: i12_oneroster_ids
Create Date: 2026-12-11
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "i15_digest_claims"
down_revision: Union[str, Sequence[str], None] = "i12_oneroster_ids"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM digest_logs WHERE EXISTS (SELECT 1 FROM digest_logs AS later "
        "WHERE later.guardian_id = digest_logs.guardian_id AND later.period_start = digest_logs.period_start "
        "AND later.period_end > digest_logs.period_end)"
    )
    with op.batch_alter_table("digest_logs") as batch:
        batch.add_column(sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), server_default="sent",
                                   nullable=False))
        batch.add_column(sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch.alter_column("sent_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        batch.create_unique_constraint("uq_digest_logs_guardian_start", ["guardian_id", "period_start"])


def downgrade() -> None:
    op.execute("DELETE FROM digest_logs WHERE state = 'claimed'")
    with op.batch_alter_table("digest_logs") as batch:
        batch.drop_constraint("uq_digest_logs_guardian_start", type_="unique")
        batch.alter_column("sent_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)
        batch.drop_column("claimed_by")
        batch.drop_column("claimed_at")
        batch.drop_column("state")

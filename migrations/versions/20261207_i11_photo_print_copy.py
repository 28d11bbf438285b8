"""photo print copy: artefacts.thumb_print (a 1200 px JPEG made at upload for PDF exports) and artefacts.reencoded

Photos uploaded before have no print copy (the PDF export still makes one from the large thumbnail) and were all
re-encoded by the old upload code, but are left False: the flag only describes uploads from now on.

Revision ID: i11_photo_print_copy
Revises: i10_recordings
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "i11_photo_print_copy"
down_revision: Union[str, Sequence[str], None] = "i10_recordings"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("artefacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thumb_print", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.add_column(sa.Column("reencoded", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("artefacts", schema=None) as batch_op:
        batch_op.alter_column("reencoded", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("artefacts", schema=None) as batch_op:
        batch_op.drop_column("reencoded")
        batch_op.drop_column("thumb_print")

"""artefacts.derived_bytes: the bytes of a photo's thumbnails and print copy, counted in the owner's quota

Existing rows start at 0 (the files live in the upload store, which a migration doesn't read): `folio check
--repair` measures them and sets every student's storage count to what is really stored.

Revision ID: i16_stored_bytes
Revises: i12_people_and_terms
Create Date: 2026-12-10
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "i16_stored_bytes"
down_revision: Union[str, Sequence[str], None] = "i12_people_and_terms"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("artefacts") as batch:
        batch.add_column(sa.Column("derived_bytes", sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("artefacts") as batch:
        batch.drop_column("derived_bytes")

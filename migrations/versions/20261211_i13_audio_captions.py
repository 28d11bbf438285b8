"""artefacts.audio_artefact_id: a piece of evidence's spoken caption, recorded where the photo is added

The caption is an audio artefact of the same student, part of the evidence as a reflection's recording is part of the
reflection (heard and listed only with it); deleting the evidence deletes it, deleting the caption leaves the evidence.

Revision ID: i13_audio_captions
Revises: i13_item_reactions
Create Date: 2026-12-11
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "i13_audio_captions"
down_revision: Union[str, Sequence[str], None] = "i13_item_reactions"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("artefacts") as batch:
        batch.add_column(sa.Column("audio_artefact_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_artefacts_audio_artefact_id", "artefacts", ["audio_artefact_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index("ix_artefacts_audio_artefact_id", ["audio_artefact_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("artefacts") as batch:
        batch.drop_index("ix_artefacts_audio_artefact_id")
        batch.drop_constraint("fk_artefacts_audio_artefact_id", type_="foreignkey")
        batch.drop_column("audio_artefact_id")

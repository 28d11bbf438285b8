"""recordings are part of their reflection or comment: no audience, approval or evidence link of their own

A spoken reflection's recording and a teacher's spoken feedback used to copy the audience of their reflection (or
of the item commented on) when saved, so a reflection made private later left its recording class- or family-visible
in lists, and a family recording waited for an approval of its own (its title, "Recording: <reflection>", in the
teacher's inbox and notifications). Who hears a recording is now decided by what it belongs to, every time, so:
existing recordings become private (artefacts and items), their approvals go, and so do the notifications about them
sent to anyone but their owner, and the evidence link a spoken reflection made to its own recording. Indexes on the
two audio_artefact_id columns serve the "is this a recording?" lookups every list makes.

Downgrading drops the indexes only: the audiences the recordings copied are not restored (they let lists show what
the reflection no longer showed).

Revision ID: i10_recordings
Revises: i10_items
Create Date: 2026-12-08
"""
from typing import Sequence, Union

from alembic import op

revision: str = "i10_recordings"
down_revision: Union[str, Sequence[str], None] = "i10_items"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

RECORDINGS = ("(SELECT audio_artefact_id FROM reflections WHERE audio_artefact_id IS NOT NULL "
              "UNION SELECT audio_artefact_id FROM comments WHERE audio_artefact_id IS NOT NULL)")


def upgrade() -> None:
    op.create_index("ix_reflections_audio_artefact_id", "reflections", ["audio_artefact_id"], unique=False)
    op.create_index("ix_comments_audio_artefact_id", "comments", ["audio_artefact_id"], unique=False)
    op.execute(f"UPDATE artefacts SET audience = 'private' WHERE id IN {RECORDINGS}")
    op.execute(f"UPDATE items SET audience = 'private' WHERE id IN {RECORDINGS}")
    op.execute(f"DELETE FROM item_approvals WHERE item_id IN {RECORDINGS}")
    op.execute(f"DELETE FROM notifications WHERE item_id IN {RECORDINGS} "
               "AND user_id <> (SELECT owner_id FROM items WHERE items.id = notifications.item_id)")
    op.execute("DELETE FROM reflection_artefacts WHERE EXISTS (SELECT 1 FROM reflections "
               "WHERE reflections.id = reflection_artefacts.reflection_id "
               "AND reflections.audio_artefact_id = reflection_artefacts.artefact_id)")


def downgrade() -> None:
    op.drop_index("ix_comments_audio_artefact_id", table_name="comments")
    op.drop_index("ix_reflections_audio_artefact_id", table_name="reflections")

"""framework CASE identifiers: frameworks.case_identifier and competencies.case_identifier, competencies.code 60 long

Importing a CASE package (or a Mahara .matrix) again must update the framework it made, matched by identifier, and an
exported framework must keep one identity; existing frameworks and competencies get a fresh UUID each. Codes grow
from 20 to 60 characters because published codes are longer (CCSS.Math.Content.6.RP.A.3a has 27).

Revision ID: i12_framework_case_ids
Revises: i16_import_keys
Create Date: 2026-12-07
"""
from typing import Sequence, Union
from uuid import uuid4

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "i12_framework_case_ids"
down_revision: Union[str, Sequence[str], None] = "i16_import_keys"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _backfill(table: str) -> None:
    connection = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column("case_identifier", sa.String))
    for (row_id,) in connection.execute(sa.select(rows.c.id)).all():
        connection.execute(sa.update(rows).where(rows.c.id == row_id).values(case_identifier=str(uuid4())))


def upgrade() -> None:
    with op.batch_alter_table("frameworks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_identifier", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
    with op.batch_alter_table("competencies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_identifier", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
    _backfill("frameworks")
    _backfill("competencies")
    with op.batch_alter_table("frameworks", schema=None) as batch_op:
        batch_op.alter_column("case_identifier", existing_type=sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False)
        batch_op.create_unique_constraint("uq_frameworks_school_id_case_identifier", ["school_id", "case_identifier"])
    with op.batch_alter_table("competencies", schema=None) as batch_op:
        batch_op.alter_column("case_identifier", existing_type=sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False)
        batch_op.alter_column("code", existing_type=sqlmodel.sql.sqltypes.AutoString(length=20),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=60), existing_nullable=False)
        batch_op.create_unique_constraint("uq_competencies_framework_id_case_identifier", ["framework_id", "case_identifier"])


def downgrade() -> None:
    # Codes longer than 20 characters (only imported ones) are cut to fit the old column.
    competencies = sa.table("competencies", sa.column("code", sa.String))
    op.get_bind().execute(sa.update(competencies).where(sa.func.length(competencies.c.code) > 20)
                          .values(code=sa.func.substr(competencies.c.code, 1, 20)))
    with op.batch_alter_table("competencies", schema=None) as batch_op:
        batch_op.drop_constraint("uq_competencies_framework_id_case_identifier", type_="unique")
        batch_op.alter_column("code", existing_type=sqlmodel.sql.sqltypes.AutoString(length=60),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=20), existing_nullable=False)
        batch_op.drop_column("case_identifier")
    with op.batch_alter_table("frameworks", schema=None) as batch_op:
        batch_op.drop_constraint("uq_frameworks_school_id_case_identifier", type_="unique")
        batch_op.drop_column("case_identifier")

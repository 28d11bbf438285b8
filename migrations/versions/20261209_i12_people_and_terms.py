"""people and terms: school_terms (classes belong to one), setup_links (one-time password setup), users.deactivated_at

Existing classes get a term made from their year and term words (one per school, year and term), archived when all
its classes are. Accounts already switched off count their retention period from this upgrade.

Revision ID: i12_people_and_terms
Revises: i12_framework_case_ids
Create Date: 2026-12-09
"""
from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "i12_people_and_terms"
down_revision: Union[str, Sequence[str], None] = "i12_framework_case_ids"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "school_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("school_year", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["schools.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("school_id", "name"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("school_terms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_terms_school_id"), ["school_id"], unique=False)
    op.create_table(
        "setup_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("setup_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_setup_links_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deactivated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("term_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_classes_term_id"), ["term_id"], unique=False)
        batch_op.create_foreign_key("fk_classes_term_id_school_terms", "school_terms", ["term_id"], ["id"],
                                    ondelete="RESTRICT")
    _terms_for_existing_classes()


def _terms_for_existing_classes() -> None:
    connection = op.get_bind()
    classes = sa.table("classes", sa.column("id"), sa.column("school_id"), sa.column("year"), sa.column("term"),
                       sa.column("archived"), sa.column("term_id"))
    terms = sa.table("school_terms", sa.column("id"), sa.column("school_id"), sa.column("name"),
                     sa.column("school_year"), sa.column("archived"), sa.column("created_at", sqlmodel.sql.sqltypes.UTCDateTime()))
    users = sa.table("users", sa.column("is_active"), sa.column("deactivated_at", sqlmodel.sql.sqltypes.UTCDateTime()))
    now = datetime.now(timezone.utc)
    groups: dict[tuple[int, str], list] = {}
    for row in connection.execute(sa.select(classes.c.id, classes.c.school_id, classes.c.year, classes.c.term,
                                            classes.c.archived)):
        name = (f"{row.year} {row.term}" if row.term else row.year).strip()[:40] or "—"
        groups.setdefault((row.school_id, name), []).append(row)
    for (school_id, name), rows in groups.items():
        term_id = connection.execute(sa.insert(terms).values(
            school_id=school_id, name=name, school_year=(rows[0].year or "")[:20],
            archived=all(row.archived for row in rows), created_at=now).returning(terms.c.id)).scalar_one()
        connection.execute(sa.update(classes).where(classes.c.id.in_([row.id for row in rows])).values(term_id=term_id))
    connection.execute(sa.update(users).where(users.c.is_active == sa.false()).values(deactivated_at=now))


def downgrade() -> None:
    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.drop_constraint("fk_classes_term_id_school_terms", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_classes_term_id"))
        batch_op.drop_column("term_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("deactivated_at")
    with op.batch_alter_table("setup_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_setup_links_user_id"))
    op.drop_table("setup_links")
    with op.batch_alter_table("school_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_terms_school_id"))
    op.drop_table("school_terms")

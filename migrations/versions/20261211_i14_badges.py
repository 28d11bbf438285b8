"""badges: issuer keys and Open Badges credentials

Revision ID: i14_badges
Revises: i14_api_tokens
Create Date: 2026-12-11
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'i14_badges'
down_revision: Union[str, Sequence[str], None] = 'i14_api_tokens'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('issuer_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('public_key_multibase', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('sealed_private_key', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('retired_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('public_key_multibase'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('issuer_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issuer_keys_school_id'), ['school_id'], unique=False)

    op.create_table('credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('rating_id', sa.Integer(), nullable=True),
    sa.Column('goal_id', sa.Integer(), nullable=True),
    sa.Column('competency_id', sa.Integer(), nullable=True),
    sa.Column('level_id', sa.Integer(), nullable=True),
    sa.Column('achievement_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('issued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_reason', sa.Text(), nullable=False),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('document', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['competency_id'], ['competencies.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['level_id'], ['proficiency_levels.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rating_id'], ['competency_ratings.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('public_id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credentials_competency_id'), ['competency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credentials_goal_id'), ['goal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credentials_issued_by_id'), ['issued_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credentials_level_id'), ['level_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credentials_rating_id'), ['rating_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credentials_revoked_by_id'), ['revoked_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credentials_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credentials_student_id'), ['student_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credentials_student_id'))
        batch_op.drop_index(batch_op.f('ix_credentials_school_id'))
        batch_op.drop_index(batch_op.f('ix_credentials_revoked_by_id'))
        batch_op.drop_index(batch_op.f('ix_credentials_rating_id'))
        batch_op.drop_index(batch_op.f('ix_credentials_level_id'))
        batch_op.drop_index(batch_op.f('ix_credentials_issued_by_id'))
        batch_op.drop_index(batch_op.f('ix_credentials_goal_id'))
        batch_op.drop_index(batch_op.f('ix_credentials_competency_id'))

    op.drop_table('credentials')
    with op.batch_alter_table('issuer_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issuer_keys_school_id'))

    op.drop_table('issuer_keys')

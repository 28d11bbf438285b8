"""enrolment trust (how each enrolment was made) and the append-only audit log

Revision ID: i10_audit_log
Revises: 7293a4fd835b
Create Date: 2026-12-07 06:30:37.183097

Existing enrolments are marked from what the database still shows:
- a student's earliest enrolment, made within ten minutes of their account, is where a teacher created the account
  ("teacher_created"; a list of 500 students takes a while to hash, hence the margin);
- a class's earliest teacher enrolment, made within ten minutes of the class, is its creator ("class_creator");
- everything else is "legacy": it may have been a join code, an admin, or a teacher typing another class's student's
  username (the hole this revision closes), so it gives no right to reset the student's password. Admins still can.
"""
from datetime import timedelta
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'i10_audit_log'
down_revision: Union[str, Sequence[str], None] = 'i10_throttle_scopes'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CREATION_MARGIN = timedelta(minutes=10)
ENROLLED_VIA = sa.Enum('admin', 'roster', 'teacher_created', 'join_code', 'class_creator', 'legacy', name='enrolledvia',
                       native_enum=False, length=20)

# The ids of deleted accounts may be cleared (ON DELETE SET NULL); nothing else may change, and nothing be deleted.
_UNCHANGED = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in (
    "id", "at", "actor_name", "school_id", "event", "object_description", "ip_address", "details"))
_ONLY_CLEARING = ("(NEW.actor_id IS NULL OR NEW.actor_id IS OLD.actor_id) "
                  "AND (NEW.subject_id IS NULL OR NEW.subject_id IS OLD.subject_id)")
SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    WHEN NOT ({_ONLY_CLEARING} AND {_UNCHANGED})
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
)
POSTGRES_TRIGGERS = (
    f"""CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE'
           AND (NEW.actor_id IS NULL OR NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id)
           AND (NEW.subject_id IS NULL OR NEW.subject_id IS NOT DISTINCT FROM OLD.subject_id)
           AND (NEW.id, NEW.at, NEW.actor_name, NEW.school_id, NEW.event, NEW.object_description, NEW.ip_address,
                NEW.details::text)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.at, OLD.actor_name, OLD.school_id, OLD.event, OLD.object_description, OLD.ip_address,
                OLD.details::text) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only';
    END $$""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
)


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('event', sa.Enum('sign_in', 'sign_in_failed', 'password_changed', 'password_reset', 'account_created', 'enrolled', 'unenrolled', 'guardian_linked', 'guardian_unlinked', 'invitation_created', 'invitation_revoked', 'export_requested', 'import_requested', 'share_link_created', 'share_link_revoked', 'item_approved', 'item_returned', name='auditeventkind', native_enum=False, length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('object_description', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('ip_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subject_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_events_school_at', ['school_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_events_subject_at', ['subject_id', 'at'], unique=False)
    for statement in (POSTGRES_TRIGGERS if op.get_bind().dialect.name == 'postgresql' else SQLITE_TRIGGERS):
        op.execute(statement)

    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enrolled_via', ENROLLED_VIA, nullable=True))
    _mark_existing_enrolments()
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.alter_column('enrolled_via', existing_type=ENROLLED_VIA, nullable=False)


def _mark_existing_enrolments() -> None:
    when = sqlmodel.sql.sqltypes.UTCDateTime()
    enrollments = sa.table('enrollments', sa.column('id', sa.Integer), sa.column('class_id', sa.Integer),
                           sa.column('user_id', sa.Integer), sa.column('role', sa.String),
                           sa.column('created_at', when), sa.column('enrolled_via', sa.String))
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('created_at', when))
    classes = sa.table('classes', sa.column('id', sa.Integer), sa.column('created_at', when))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(enrollments.c.id, enrollments.c.class_id, enrollments.c.user_id, enrollments.c.role,
                  enrollments.c.created_at, users.c.created_at.label('user_created'),
                  classes.c.created_at.label('class_created'))
        .join(users, users.c.id == enrollments.c.user_id).join(classes, classes.c.id == enrollments.c.class_id)
        .order_by(enrollments.c.created_at, enrollments.c.id)
    ).all()
    via: dict[int, str] = {}
    first_for_student: set[int] = set()
    first_teacher_of_class: set[int] = set()
    for row in rows:
        via[row.id] = 'legacy'
        if row.role == 'student' and row.user_id not in first_for_student:
            first_for_student.add(row.user_id)
            if timedelta(0) <= row.created_at - row.user_created <= CREATION_MARGIN:
                via[row.id] = 'teacher_created'
        elif row.role == 'teacher' and row.class_id not in first_teacher_of_class:
            first_teacher_of_class.add(row.class_id)
            if timedelta(0) <= row.created_at - row.class_created <= CREATION_MARGIN:
                via[row.id] = 'class_creator'
    if via:
        connection.execute(
            enrollments.update().where(enrollments.c.id == sa.bindparam('enrollment_id')).values(enrolled_via=sa.bindparam('via')),
            [{'enrollment_id': key, 'via': value} for key, value in via.items()],
        )


def downgrade() -> None:
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_column('enrolled_via')

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER audit_events_append_only ON audit_events')
        op.execute('DROP FUNCTION audit_events_append_only()')
    else:
        op.execute('DROP TRIGGER audit_events_no_update')
        op.execute('DROP TRIGGER audit_events_no_delete')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_subject_at')
        batch_op.drop_index('ix_audit_events_school_at')
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))

    op.drop_table('audit_events')

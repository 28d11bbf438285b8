"""The audit log: an append-only record of security-relevant events (who did what to whose account, when, from where)."""

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow
from app.models.people import _enum_column


class AuditEventKind(str, Enum):
    sign_in = "sign_in"
    sign_in_failed = "sign_in_failed"
    password_changed = "password_changed"
    password_reset = "password_reset"
    account_created = "account_created"
    account_updated = "account_updated"
    account_deactivated = "account_deactivated"
    account_reactivated = "account_reactivated"
    account_deleted = "account_deleted"
    setup_link_created = "setup_link_created"
    setup_link_used = "setup_link_used"
    term_created = "term_created"
    class_created = "class_created"
    classes_rolled_over = "classes_rolled_over"
    enrolled = "enrolled"
    unenrolled = "unenrolled"
    guardian_linked = "guardian_linked"
    guardian_unlinked = "guardian_unlinked"
    invitation_created = "invitation_created"
    invitation_revoked = "invitation_revoked"
    export_requested = "export_requested"
    import_requested = "import_requested"
    share_link_created = "share_link_created"
    share_link_revoked = "share_link_revoked"
    item_approved = "item_approved"
    item_returned = "item_returned"
    credential_issued = "credential_issued"
    credential_revoked = "credential_revoked"


class AuditEvent(SQLModel, table=True):
    """One event. Rows are only ever added: a database trigger refuses any change but the ids of deleted accounts
    being cleared (the foreign keys' ON DELETE SET NULL), and refuses every delete."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_school_at", "school_id", "at"),
        sa.Index("ix_audit_events_subject_at", "subject_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL", index=True)
    # Names as they were then: the log must still read right after a rename or a deleted account.
    actor_name: str = Field(default="", max_length=200)
    # No foreign key: the record outlives whatever it describes. None for events outside any school.
    school_id: int | None = Field(default=None)
    event: AuditEventKind = Field(sa_column=_enum_column(AuditEventKind, nullable=False))
    subject_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    object_description: str = Field(default="", max_length=300)
    ip_address: str | None = Field(default=None, max_length=64)
    details: dict = Field(default_factory=dict, sa_type=sa.JSON)

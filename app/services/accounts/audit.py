"""Writing the audit log: one function, `record`, called by every security-relevant write, in that write's transaction.

The log is append-only: this module offers no way to change or remove an event (and the database refuses to);
reading it for pages is app.services.accounts.audit_views.
"""

from __future__ import annotations

from sqlmodel import Session

from app.models import AuditEvent, AuditEventKind, User


def record(
    *, session: Session, event: AuditEventKind, actor: User | None, subject: User | None = None,
    school_id: int | None = None, object_description: str = "", address: str | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Add one event to the session (the caller's commit keeps it with the change it describes).

    The school is the actor's, else the subject's, unless given. The subject's name is kept as it is now, in
    `details`, so the log still reads right after a rename or a deleted account."""
    if school_id is None:
        school_id = actor.school_id if actor is not None else subject.school_id if subject is not None else None
    entry = AuditEvent(
        event=event, actor_id=actor.id if actor else None, actor_name=actor.display_name[:200] if actor else "",
        school_id=school_id, subject_id=subject.id if subject else None,
        object_description=object_description[:300], ip_address=address[:64] if address else None,
        details={"subject_name": subject.display_name, **(details or {})} if subject is not None else dict(details or {}),
    )
    session.add(entry)
    return entry

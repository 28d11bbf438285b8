"""Reading issued credentials: a student's list, one credential's view-model (shared by every page that shows one)."""

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from app.access.errors import not_found
from app.access.rules import credentials_visible_among, may_revoke_credential, may_see_credential
from app.config import Settings
from app.models import Credential, School, User
from app.pagination import Page, paginate
from app.services.badges import urls

PAGE_SIZE = 20


@dataclass
class CredentialView:
    """What any page (or download) shows of one credential, read from the signed document as issued."""

    credential: Credential
    issuer_name: str
    document: dict
    achievement: dict = field(default_factory=dict)
    evidence: list[dict] = field(default_factory=list)
    json_url: str = ""
    verify_url: str = ""

    @property
    def public_id(self) -> str:
        return self.credential.public_id

    @property
    def name(self) -> str:
        return self.credential.achievement_name

    @property
    def issued_at(self) -> datetime:
        return self.credential.issued_at

    @property
    def revoked(self) -> bool:
        return self.credential.revoked_at is not None

    @property
    def criteria(self) -> str:
        criteria = self.achievement.get("criteria")
        return criteria.get("narrative", "") if isinstance(criteria, dict) else ""

    @property
    def json_text(self) -> str:
        return self.credential.document

    @property
    def filename(self) -> str:
        return f"credential-{self.credential.public_id}.json"


def credential_view(*, settings: Settings, credential: Credential, issuer_name: str) -> CredentialView:
    """The one view-model of a credential (lists, detail, verification page, downloads, showcases, archive)."""
    document = json.loads(credential.document)
    subject = document.get("credentialSubject") or {}
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    return CredentialView(
        credential=credential, issuer_name=issuer_name, document=document,
        achievement=achievement if isinstance(achievement, dict) else {},
        evidence=[item for item in document.get("evidence", []) if isinstance(item, dict)],
        json_url=urls.credential_url(settings=settings, public_id=credential.public_id),
        verify_url=urls.verify_page_url(settings=settings, public_id=credential.public_id),
    )


def student_credentials(*, session: Session, settings: Settings, student: User, page: int,
                        size: int = PAGE_SIZE) -> Page[CredentialView]:
    """One page of the student's credentials, newest first (two queries whatever the page size)."""
    statement = (
        select(Credential, School.name).join(School, School.id == Credential.school_id)
        .where(Credential.student_id == student.id).order_by(Credential.issued_at.desc(), Credential.id.desc())
    )
    rows = paginate(session, statement, number=page, size=size)
    views = [credential_view(settings=settings, credential=credential, issuer_name=name) for credential, name in rows.items]
    return Page(items=views, number=rows.number, size=rows.size, total=rows.total)


def _visible_views(*, session: Session, settings: Settings, viewer: User, rows) -> list[CredentialView]:
    """The views of those (credential, school name) rows `viewer` may see, in their order (one query at most)."""
    names = {credential.id: name for credential, name in rows}
    shown = credentials_visible_among(session=session, viewer=viewer, credentials=[row[0] for row in rows])
    return [credential_view(settings=settings, credential=credential, issuer_name=names[credential.id])
            for credential in shown]


def standing_credentials(*, session: Session, settings: Settings, viewer: User, student: User) -> list[CredentialView]:
    """Every credential of the student that has not been revoked and `viewer` may see, newest first (for their
    family's page; two queries at most)."""
    rows = session.exec(
        select(Credential, School.name).join(School, School.id == Credential.school_id)
        .where(Credential.student_id == student.id, Credential.revoked_at.is_(None))
        .order_by(Credential.issued_at.desc(), Credential.id.desc())
    ).all()
    return _visible_views(session=session, settings=settings, viewer=viewer, rows=rows)


def awarded_between(*, session: Session, settings: Settings, viewer: User, student_ids: list[int], start: datetime,
                    end: datetime) -> list[CredentialView]:
    """The students' credentials issued in [start, end) and not revoked that `viewer` may see, oldest first (for the
    family digest; two queries whatever the number of students or credentials)."""
    if not student_ids:
        return []
    rows = session.exec(
        select(Credential, School.name).join(School, School.id == Credential.school_id)
        .where(Credential.student_id.in_(student_ids), Credential.revoked_at.is_(None),
               Credential.issued_at >= start, Credential.issued_at < end)
        .order_by(Credential.issued_at, Credential.id)
    ).all()
    return _visible_views(session=session, settings=settings, viewer=viewer, rows=rows)


def by_public_id(*, session: Session, public_id: str) -> tuple[Credential, str] | None:
    """A credential and its school's name by public id, or None (one query)."""
    return session.exec(
        select(Credential, School.name).join(School, School.id == Credential.school_id)
        .where(Credential.public_id == public_id)
    ).first()


def visible_credential(*, session: Session, settings: Settings, viewer: User, public_id: str) -> CredentialView:
    """A credential the viewer may open in Folio (the student, their teachers, its issuer, the school's admins, a linked
    guardian while it stands), or 404."""
    found = by_public_id(session=session, public_id=public_id)
    if found is None or not may_see_credential(session=session, viewer=viewer, student_id=found[0].student_id,
                                               school_id=found[0].school_id, issued_by_id=found[0].issued_by_id,
                                               revoked=found[0].revoked_at is not None):
        raise not_found()
    return credential_view(settings=settings, credential=found[0], issuer_name=found[1])


def can_revoke(*, viewer: User, view: CredentialView) -> bool:
    """Whether the viewer may revoke this credential (for showing the button)."""
    return may_revoke_credential(viewer=viewer, school_id=view.credential.school_id,
                                 issued_by_id=view.credential.issued_by_id)


@dataclass
class SchoolCredentialRow:
    view: CredentialView
    student_name: str


def school_credentials(*, session: Session, settings: Settings, school_id: int, page: int) -> Page[SchoolCredentialRow]:
    """One page of every credential the school issued, newest first, with each student's name (two queries)."""
    statement = (
        select(Credential, School.name, User.display_name)
        .join(School, School.id == Credential.school_id).join(User, User.id == Credential.student_id)
        .where(Credential.school_id == school_id).order_by(Credential.issued_at.desc(), Credential.id.desc())
    )
    rows = paginate(session, statement, number=page, size=PAGE_SIZE)
    items = [SchoolCredentialRow(credential_view(settings=settings, credential=credential, issuer_name=school_name),
                                 student_name) for credential, school_name, student_name in rows.items]
    return Page(items=items, number=rows.number, size=rows.size, total=rows.total)

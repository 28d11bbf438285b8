"""A student's credentials as exports carry them (PDF section, archive files): every one, revoked ones too, as issued."""

from sqlmodel import Session, select

from app.config import Settings
from app.models import Credential, School
from app.services.badges.credentials import CredentialView, credential_view


def credentials_of(*, session: Session, settings: Settings, student_id: int) -> list[CredentialView]:
    """All the student's credentials, oldest first, with their issuer's name (one query)."""
    rows = session.exec(
        select(Credential, School.name).join(School, School.id == Credential.school_id)
        .where(Credential.student_id == student_id).order_by(Credential.issued_at, Credential.id)
    ).all()
    return [credential_view(settings=settings, credential=credential, issuer_name=name) for credential, name in rows]


CREDENTIALS_PREFIX = "credentials/"


def archive_path(view: CredentialView) -> str:
    """Where a credential's signed JSON sits in the archive ("credentials/credential-<public id>.json")."""
    return CREDENTIALS_PREFIX + view.filename


def file_bytes(view: CredentialView) -> bytes:
    """The credential file exactly as issued: its stored document's UTF-8 bytes, so its proof still verifies."""
    return view.json_text.encode("utf-8")

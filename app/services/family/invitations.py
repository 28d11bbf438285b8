"""Family invitations: single-use codes a student's teacher (or the school's admin) prints for a family, and
redeeming them (a new family account, or one the family already has) into a GuardianLink.

Only a code's SHA-256 is stored; the plain code is shown once, on the printable invitation. Wrong (and empty)
codes count as failures in app.services.accounts.throttle (per address, and per account when signed in), and nothing
about the account fields is said until the code is right, so the form can't be used to ask whether a username
or email exists.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from app.config import Settings
from app.i18n import _
from app.models import AuditEventKind, FamilyInvitation, GuardianLink, NotificationKind, Role, School, User
from app.models.base import utcnow
from app.services.accounts import accounts
from app.services.accounts import audit
from app.services.accounts import throttle
from app.access import not_found, relationships, visible_audiences
from app.services.moderation.notifications import notify

# No 0/O, 1/I/L, U (read aloud and typed from paper).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 12


# --- codes -------------------------------------------------------------------------------------


def generate_code() -> str:
    """A random code of CODE_LENGTH characters from CODE_ALPHABET (about 59 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """What was typed, without spaces or dashes, upper-cased."""
    return "".join(ch for ch in raw.upper() if ch not in " -\t\r\n")


def format_code(code: str) -> str:
    """XXXX-XXXX-XXXX, for printing."""
    code = normalise_code(code)
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def code_hash(code: str) -> str:
    """The SHA-256 (hex) of the normalised code: all that is stored."""
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


# --- staff: creating, listing, revoking ----------------------------------------------------------


def student_for_staff(*, session: Session, staff: User, student_id: int) -> User:
    """A student whom `staff` teaches (an active class) or whose school `staff` administers, or 404."""
    student = session.get(User, student_id)
    if student is None or student.role is not Role.student:
        raise not_found()
    if staff.role is Role.admin and staff.school_id == student.school_id:
        return student
    if staff.role is Role.teacher and visible_audiences(session=session, viewer=staff, owner_id=student.id):
        return student
    raise not_found()


def create_invitation(
    *, session: Session, staff: User, student: User, settings: Settings, address: str | None
) -> tuple[FamilyInvitation, str]:
    """A new invitation for `student` (checked by the caller); returns it and the plain code, shown only once."""
    code = generate_code()
    invitation = FamilyInvitation(school_id=student.school_id, student_id=student.id, code_hash=code_hash(code),
                                  created_by_id=staff.id, expires_at=utcnow() + timedelta(days=settings.invitation_days))
    session.add(invitation)
    session.flush()
    audit.record(session=session, event=AuditEventKind.invitation_created, actor=staff, subject=student, address=address,
                 details={"invitation_id": invitation.id, "expires_at": invitation.expires_at.isoformat()})
    return invitation, code


@dataclass
class GuardianRow:
    guardian: User
    link: GuardianLink


@dataclass
class FamilyAdmin:
    """What the staff page about a student's family shows."""

    student: User
    school: School
    guardians: list[GuardianRow]
    invitations: list[FamilyInvitation]  # not used and not revoked (expired ones too, marked)


def guardians_of(*, session: Session, student_id: int) -> list[GuardianRow]:
    """The guardians linked to `student_id`, by name (one query)."""
    rows = relationships.guardian_links_of(session=session, student_id=student_id)
    return [GuardianRow(guardian, link) for guardian, link in rows]


def family_admin(*, session: Session, student: User) -> FamilyAdmin:
    """The student's linked guardians and outstanding invitations (three queries)."""
    invitations = session.exec(
        select(FamilyInvitation).where(FamilyInvitation.student_id == student.id, FamilyInvitation.used_at.is_(None),
                                       FamilyInvitation.revoked_at.is_(None))
        .order_by(FamilyInvitation.created_at.desc(), FamilyInvitation.id.desc())
    ).all()
    return FamilyAdmin(student, session.get(School, student.school_id), guardians_of(session=session, student_id=student.id),
                       list(invitations))


def revoke_invitation(
    *, session: Session, staff: User, student: User, invitation_id: int, address: str | None
) -> FamilyInvitation:
    """Revoke one of the student's unused invitations (404 when it isn't theirs); revoking twice changes nothing."""
    invitation = session.get(FamilyInvitation, invitation_id)
    if invitation is None or invitation.student_id != student.id:
        raise not_found()
    if invitation.revoked_at is None and invitation.used_at is None:
        invitation.revoked_at = utcnow()
        session.add(invitation)
        audit.record(session=session, event=AuditEventKind.invitation_revoked, actor=staff, subject=student,
                     address=address, details={"invitation_id": invitation.id})
    return invitation


def record_unlinked(*, session: Session, actor: User, student: User, guardian: User, address: str | None) -> None:
    """Put the end of a guardian's link in the audit log."""
    audit.record(session=session, event=AuditEventKind.guardian_unlinked, actor=actor, subject=student,
                 object_description=guardian.display_name, address=address,
                 details={"guardian_id": guardian.id, "guardian_name": guardian.display_name})


def remove_link(*, session: Session, staff: User, student: User, guardian_id: int, address: str | None) -> User:
    """End a guardian's link to the student (404 when there is none); returns the guardian."""
    guardian = relationships.linked_guardian(session=session, student_id=student.id, guardian_id=guardian_id)
    if guardian is None:
        raise not_found()
    relationships.unlink(session=session, guardian_id=guardian_id, student_id=student.id)
    record_unlinked(session=session, actor=staff, student=student, guardian=guardian, address=address)
    return guardian


# --- families: redeeming -----------------------------------------------------------------------


def invitation_for_code(*, session: Session, code: str) -> tuple[FamilyInvitation | None, str | None]:
    """The usable invitation with this code, or None and why not (in words for the family)."""
    normalised = normalise_code(code)
    if not normalised:
        return None, _("Enter the code from your invitation.")
    invitation = None
    if len(normalised) == CODE_LENGTH:
        invitation = session.exec(select(FamilyInvitation).where(FamilyInvitation.code_hash == code_hash(normalised))).first()
    if invitation is None:
        return None, _("We don't recognise that code. Check it against your invitation and try again.")
    if invitation.revoked_at is not None:
        return None, _("This invitation was cancelled by the school. Ask your child's teacher for a new one.")
    if invitation.used_at is not None:
        return None, _("This invitation has already been used. Each code works once: ask your child's teacher for a new one.")
    if invitation.expires_at <= utcnow():
        return None, _("This invitation has expired. Ask your child's teacher for a new one.")
    return invitation, None


def is_throttled(*, session: Session, user: User | None, address: str, settings: Settings) -> bool:
    """True when too many wrong codes came from this address (or this signed-in family account) lately."""
    return throttle.is_throttled(session=session, scope=throttle.Scope.invitation_code,
                                 account=throttle.user_account(user), address=address, settings=settings)


def record_wrong_code(*, session: Session, user: User | None, address: str, settings: Settings) -> None:
    """Count a wrong or empty code (commits, like every failure count)."""
    throttle.record_failure(session=session, scope=throttle.Scope.invitation_code,
                            account=throttle.user_account(user), address=address, settings=settings)


@dataclass
class NewFamilyAccount:
    """The "create a family account" half of the form, checked."""

    display_name: str = ""
    username: str = ""
    email: str = ""
    password: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def check_new_account(*, session: Session, display_name: str, username: str, email: str, password: str,
                      confirm: str) -> NewFamilyAccount:
    """Check a new family account's fields against the same rules as other accounts (three queries at most)."""
    data = NewFamilyAccount(display_name=" ".join(display_name.split()), username=username.strip().lower(),
                            email=accounts.normalise_identifier(email), password=password)
    errors = data.errors
    errors.update(accounts.name_and_username_errors(display_name=data.display_name, username=data.username,
                                                    no_name=_("Write your name, as your child's teachers will see it.")))
    if "username" not in errors and session.exec(select(User.id).where(sa.or_(User.username == data.username, User.email == data.username))).first():
        errors["username"] = _("The username “%(username)s” is taken.", username=data.username)
    if data.email:
        if not accounts.looks_like_email(data.email):
            errors["email"] = _("That doesn't look like an email address.")
        elif session.exec(select(User.id).where(sa.or_(User.email == data.email, User.username == data.email))).first():
            errors["email"] = _("Another account uses that email address.")
    if problem := accounts.password_problem(password, username=data.username):
        errors["password"] = problem
    elif password != confirm:
        errors["confirm"] = _("The two passwords don't match.")
    return data


def create_family_account(*, session: Session, school_id: int, data: NewFamilyAccount, address: str | None) -> User:
    """A new guardian account from checked fields (made by the family themselves, so its own actor in the log)."""
    user = accounts.create_user(session=session, school_id=school_id, role=Role.guardian, username=data.username,
                                display_name=data.display_name, password=data.password, email=data.email or None)
    user.last_login_at = utcnow()
    session.flush()
    audit.record(session=session, event=AuditEventKind.account_created, actor=user, subject=user, address=address,
                 details={"role": Role.guardian.value})
    return user


@dataclass
class Redeemed:
    student: User
    already_linked: bool


def redeem(*, session: Session, invitation: FamilyInvitation, guardian: User, address: str | None) -> Redeemed | None:
    """Use the invitation for `guardian` and link them to its student; None when it was used (or revoked) meanwhile.

    A guardian already linked to the student leaves the code unused. The invitation is claimed with one UPDATE ... WHERE used_at IS NULL, so two racing redemptions can't both win.
    The caller commits (or rolls back on None)."""
    student = session.get(User, invitation.student_id)
    if relationships.is_guardian_of(session=session, guardian_id=guardian.id, student_id=student.id):
        # Already linked: the code stays unused, for another member of the family.
        return Redeemed(student, already_linked=True)
    now = utcnow()
    claimed = session.exec(
        sa.update(FamilyInvitation)
        .where(FamilyInvitation.id == invitation.id, FamilyInvitation.used_at.is_(None),
               FamilyInvitation.revoked_at.is_(None), FamilyInvitation.expires_at > now)
        .values(used_at=now, used_by_id=guardian.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    session.add(GuardianLink(guardian_id=guardian.id, student_id=student.id))
    audit.record(session=session, event=AuditEventKind.guardian_linked, actor=guardian, subject=student,
                 object_description=guardian.display_name, address=address,
                 details={"guardian_id": guardian.id, "guardian_name": guardian.display_name,
                          "invitation_id": invitation.id, "invited_by_id": invitation.created_by_id})
    notify(session=session, user_id=student.id, kind=NotificationKind.guardian_linked, link="/my-family",
           name=guardian.display_name)
    session.flush()
    return Redeemed(student, already_linked=False)

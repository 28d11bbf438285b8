"""Accounts: signing in, changing and resetting passwords, creating users."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import or_
from sqlmodel import Session, select

from app.auth import burn_password_check, hash_password, password_needs_rehash, verify_password
from app.config import Settings
from app.i18n import _
from app.access import relationships
from app.models import AuditEventKind, EnrolledVia, Role, User
from app.models.base import utcnow
from app.services.accounts import audit
from app.services.accounts import throttle
from app.services.forms import FormInput

MIN_PASSWORD_LENGTH = 8
MAX_NAME_LENGTH = 200
# Letters, digits, dot, dash, underscore; stored lower-case (usernames are global).
USERNAME_PATTERN = re.compile(r"^[a-z0-9._-]{3,40}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PASSWORD_LENGTH = 256
# No 0/O, 1/l/I: temporary passwords are read off a screen or a printed card.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class SignInProblem(str, Enum):
    throttled = "throttled"
    mismatch = "mismatch"
    password_off = "password_off"  # the password was right, but the role signs in only with single sign-on


@dataclass
class SignInResult:
    user: User | None = None
    problem: SignInProblem | None = None


def looks_like_email(address: str) -> bool:
    """Whether `address` has an email address's shape and fits one (254 characters at most)."""
    return len(address) <= 254 and EMAIL_PATTERN.match(address) is not None


def name_and_username_errors(*, display_name: str, username: str, no_name: str) -> dict[str, str]:
    """A message for an empty (`no_name`) or too long name, and for a username of the wrong shape."""
    errors = {}
    if not display_name:
        errors["display_name"] = no_name
    elif len(display_name) > MAX_NAME_LENGTH:
        errors["display_name"] = _("Keep the name under %(max)s characters.", max=MAX_NAME_LENGTH)
    if not USERNAME_PATTERN.match(username):
        errors["username"] = _("Use 3 to 40 letters, digits, dots, dashes or underscores.")
    return errors


def normalise_identifier(identifier: str) -> str:
    return identifier.strip().lower()


@dataclass
class SignInForm(FormInput):
    identifier: str = ""
    password: str = ""


def check_sign_in(*, identifier: str, password: str, password_field: str = "password") -> SignInForm:
    """The sign-in fields, with a message beside each one left empty (`password_field`: the password input's name)."""
    data = SignInForm(identifier=identifier, password=password)
    if not identifier.strip():
        data.errors["identifier"] = _("Enter your username or email address.")
    if not password:
        data.errors[password_field] = _("Enter your password.")
    return data


def find_by_identifier(*, session: Session, identifier: str) -> User | None:
    """The user whose username or email is `identifier` (case-insensitive)."""
    value = normalise_identifier(identifier)
    if not value:
        return None
    return session.exec(select(User).where(or_(User.username == value, User.email == value))).first()


def sign_in(*, session: Session, identifier: str, password: str, address: str, settings: Settings) -> SignInResult:
    """Check a username-or-email and password, with throttling that never reveals whether the account exists.

    Sign-ins and failures against an existing account go in the audit log (a name that is no account has no school
    whose admins could read about it)."""
    scope = throttle.Scope.sign_in
    if throttle.is_throttled(session=session, scope=scope, account=identifier, address=address, settings=settings):
        return SignInResult(problem=SignInProblem.throttled)
    user = find_by_identifier(session=session, identifier=identifier)
    if user is None or not user.is_active:
        burn_password_check(password)
        if user is not None:
            audit.record(session=session, event=AuditEventKind.sign_in_failed, actor=None, subject=user,
                         address=address, details={"reason": "inactive"})
        throttle.record_failure(session=session, scope=scope, account=identifier, address=address, settings=settings)
        return SignInResult(problem=SignInProblem.mismatch)
    if not verify_password(user.password_hash, password):
        audit.record(session=session, event=AuditEventKind.sign_in_failed, actor=None, subject=user, address=address,
                     details={"reason": "password"})
        throttle.record_failure(session=session, scope=scope, account=identifier, address=address, settings=settings)
        return SignInResult(problem=SignInProblem.mismatch)
    if not settings.password_login_allowed(user.role):
        # Said only after the right password, so the message tells nobody else whether the account exists.
        audit.record(session=session, event=AuditEventKind.sign_in_failed, actor=None, subject=user, address=address,
                     details={"reason": SignInProblem.password_off.value})
        session.commit()
        return SignInResult(problem=SignInProblem.password_off)
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    throttle.clear_failures(session=session, scope=scope, account=identifier, address=address)
    session.add(user)
    audit.record(session=session, event=AuditEventKind.sign_in, actor=user, subject=user, address=address)
    return SignInResult(user=user)


def password_problem(password: str, *, username: str) -> str | None:
    """Why `password` can't be used, in words the user can act on; None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least %(min)s characters (this one has %(n)s).", min=MIN_PASSWORD_LENGTH, n=len(password))
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Use at most %(max)s characters.", max=MAX_PASSWORD_LENGTH)
    if password.strip().lower() == username.lower():
        return _("Your password can't be the same as your username.")
    return None


@dataclass
class PasswordChange(FormInput):
    new_password: str = ""


def check_password_change(*, user: User, current: str, new: str, confirm: str) -> PasswordChange:
    """The change-password form checked: the current password right, the new one usable, confirmed and different."""
    data = PasswordChange(new_password=new)
    errors = data.errors
    if not verify_password(user.password_hash, current):
        errors["current_password"] = _("That isn't your current password.")
    problem = password_problem(new, username=user.username)
    if problem:
        errors["new_password"] = problem
    elif new != confirm:
        errors["confirm_password"] = _("The two new passwords don't match.")
    elif new == current and not errors:
        errors["new_password"] = _("Choose a password different from your current one.")
    return data


def change_password(
    *, session: Session, user: User, current: str, new: str, confirm: str, address: str | None
) -> dict[str, str]:
    """Change the user's own password; returns errors by field (empty when it worked)."""
    checked = check_password_change(user=user, current=current, new=new, confirm=confirm)
    if not checked.ok:
        return checked.errors
    user.password_hash = hash_password(new)
    user.must_change_password = False
    session.add(user)
    audit.record(session=session, event=AuditEventKind.password_changed, actor=user, subject=user, address=address)
    return {}


def generate_password() -> str:
    """A random temporary password that is easy to read aloud (about 40 bits)."""
    chars = [secrets.choice(_PASSWORD_ALPHABET) for _ in range(8)]
    return "".join(chars[:4]) + "-" + "".join(chars[4:])


# Enrolments that let the class's teachers reset the student's password: the school placed the student there, the
# teacher made the account there, or the student joined with the code. Not "legacy" (it may have been a teacher
# adding another class's student by username, which is how accounts were taken over).
RESET_TRUSTED = frozenset({EnrolledVia.admin, EnrolledVia.roster, EnrolledVia.teacher_created, EnrolledVia.join_code})


def resettable_user(*, session: Session, actor: User, user_id: int) -> User | None:
    """The user `actor` may reset: admins anyone else in their school; teachers a student of an active class of
    theirs, enrolled there in a way in RESET_TRUSTED. Nobody but an admin resets a teacher's or an admin's."""
    target = session.get(User, user_id)
    if target is None or target.id == actor.id or target.school_id != actor.school_id:
        return None
    if actor.role is Role.admin:
        return target
    if actor.role is Role.teacher and target.role is Role.student:
        trusted = relationships.teaches_through(session=session, teacher_id=actor.id, student_id=target.id,
                                                vias=RESET_TRUSTED)
        return target if trusted else None
    return None


def reset_password(
    *, session: Session, actor: User, target: User, new_password: str, must_change: bool, address: str | None
) -> None:
    """Give `target` a new password chosen by an admin or teacher (checked by the caller), recorded in the audit log."""
    target.password_hash = hash_password(new_password)
    target.must_change_password = must_change
    session.add(target)
    audit.record(session=session, event=AuditEventKind.password_reset, actor=actor, subject=target, address=address,
                 details={"must_change": must_change})


def create_user(
    *,
    session: Session,
    school_id: int,
    role: Role,
    username: str,
    display_name: str,
    password: str,
    email: str | None = None,
) -> User:
    """A new user with a hashed password (username and email stored lower-case)."""
    user = User(
        school_id=school_id,
        role=role,
        username=normalise_identifier(username),
        display_name=display_name.strip(),
        email=normalise_identifier(email) if email else None,
        password_hash=hash_password(password),
    )
    session.add(user)
    return user

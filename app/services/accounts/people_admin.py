"""An admin's people: adding someone (with a one-time password or a setup link), editing an account, switching it
off and on again. Finding people is app.services.accounts.people.people_page."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Session, select

from app.access import relationships
from app.auth import end_other_sessions
from app.i18n import _
from app.models import AuditEventKind, ClassRole, Role, SchoolClass, SetupLink, User
from app.models.base import utcnow
from app.services.accounts import accounts
from app.services.accounts import audit
from app.services.forms import FormInput


class StartWith(str, Enum):
    """How a new person signs in the first time."""

    password = "password"  # a generated password, shown once; they choose their own at first sign-in
    link = "link"  # a setup link (emailed or printed) where they choose their own


@dataclass
class PersonInput(FormInput):
    display_name: str
    username: str
    email: str | None
    role: Role | None


def parse_person(
    *, session: Session, display_name: str, username: str, email: str, role: str, editing: User | None = None,
) -> PersonInput:
    """A person's fields, cleaned, and a message beside each field to fix (usernames and emails are unique)."""
    data = PersonInput(display_name=" ".join(display_name.split()), username=accounts.normalise_identifier(username),
                       email=accounts.normalise_identifier(email) or None,
                       role=Role(role) if role in Role._value2member_map_ else None)
    errors = data.errors
    errors.update(accounts.name_and_username_errors(display_name=data.display_name, username=data.username,
                                                    no_name=_("Write the person's name.")))
    if data.email and not accounts.looks_like_email(data.email):
        errors["email"] = _("That doesn't look like an email address (for example name@school.org).")
    if data.role is None:
        errors["role"] = _("Choose a role.")

    def taken(column, value: str) -> bool:
        statement = select(User.id).where(column == value)
        if editing is not None:
            statement = statement.where(User.id != editing.id)
        return session.exec(statement).first() is not None

    if "username" not in errors and taken(User.username, data.username):
        errors["username"] = _("The username “%(username)s” is taken.", username=data.username)
    if data.email and "email" not in errors and taken(User.email, data.email):
        errors["email"] = _("Another account already uses this email address.")
    return data


def add_person(*, session: Session, actor: User, data: PersonInput, start_with: StartWith, address: str | None
               ) -> tuple[User, str | None]:
    """A new account in the actor's school; with StartWith.password, also the generated password (shown once)."""
    password = accounts.generate_password() if start_with == StartWith.password else None
    # A setup link's account gets a long random password nobody knows until they choose their own.
    user = accounts.create_user(session=session, school_id=actor.school_id, role=data.role, username=data.username,
                                display_name=data.display_name, email=data.email,
                                password=password or accounts.generate_password() * 4)
    user.must_change_password = password is not None
    session.flush()
    audit.record(session=session, event=AuditEventKind.account_created, actor=actor, subject=user, address=address,
                 details={"role": data.role.value, "start_with": start_with.value})
    return user, password


def _other_active_admins(session: Session, user: User) -> int:
    return session.exec(select(sa.func.count()).select_from(User).where(
        User.school_id == user.school_id, User.role == Role.admin, User.is_active == True, User.id != user.id)  # noqa: E712
    ).one()


def update_person(*, session: Session, actor: User, target: User, data: PersonInput, address: str | None
                  ) -> dict[str, str]:
    """Save an edited account; errors by field when the change can't be made (nothing is changed then)."""
    if data.role is not target.role:
        if target.role is Role.admin and _other_active_admins(session, target) == 0:
            return {"role": _("%(name)s is the school's only active admin: make someone else an admin first.",
                              name=target.display_name)}
        if relationships.has_memberships(session=session, user_id=target.id):
            return {"role": _("%(name)s is in classes or linked to a family as they are now: take them out first, "
                              "then change the role.", name=target.display_name)}
    changed = [name for name in ("display_name", "username", "email", "role") if getattr(target, name) != getattr(data, name)]
    if not changed:
        return {}
    details = {"changed": changed}
    if "role" in changed:
        details |= {"from": target.role.value, "to": data.role.value}
    for name in changed:
        setattr(target, name, getattr(data, name))
    session.add(target)
    audit.record(session=session, event=AuditEventKind.account_updated, actor=actor, subject=target, address=address,
                 details=details)
    return {}


def deactivate(*, session: Session, actor: User, target: User, address: str | None,
               details: dict | None = None) -> str | None:
    """Switch an account off: it can't sign in, every session of it ends, its data is kept. A reason when refused."""
    if not target.is_active:
        return None
    if target.role is Role.admin and _other_active_admins(session, target) == 0:
        return _("%(name)s is the school's only active admin: make someone else an admin first.", name=target.display_name)
    target.is_active = False
    target.deactivated_at = utcnow()
    session.add(target)
    end_other_sessions(session=session, user_id=target.id)
    session.exec(sa.delete(SetupLink).where(SetupLink.user_id == target.id))
    audit.record(session=session, event=AuditEventKind.account_deactivated, actor=actor, subject=target, address=address,
                 details=details)
    return None


def reactivate(*, session: Session, actor: User, target: User, address: str | None, details: dict | None = None) -> None:
    """Switch an account back on, as it was."""
    if target.is_active:
        return
    target.is_active = True
    target.deactivated_at = None
    session.add(target)
    audit.record(session=session, event=AuditEventKind.account_reactivated, actor=actor, subject=target, address=address,
                 details=details)


def person_for_admin(*, session: Session, admin: User, user_id: int) -> User:
    """Someone in the admin's school, or 404 (another school's people don't exist for this admin)."""
    from app.access import not_found

    person = session.get(User, user_id)
    if person is None or person.school_id != admin.school_id:
        raise not_found()
    return person


def class_names_of(*, session: Session, user: User) -> list[str]:
    """The names of the active classes the person is in, for the edit page."""
    ids = relationships.classes_of(user.id, ClassRole.student if user.role is Role.student else ClassRole.teacher)
    return list(session.exec(select(SchoolClass.name).where(SchoolClass.id.in_(ids), SchoolClass.archived == False)  # noqa: E712
                             .order_by(SchoolClass.name)).all())

"""Where each role lands, and the links in the header for each role."""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import _
from app.models import Role, User

HOME_PATHS = {Role.student: "/student", Role.teacher: "/teacher", Role.guardian: "/family", Role.admin: "/admin"}


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str


def home_path(user: User) -> str:
    return HOME_PATHS[user.role]


def nav_items(user: User | None) -> list[NavItem]:
    """The header links for `user`'s role, in the current language."""
    if user is None:
        return []
    items = [NavItem(home_path(user), _("Home"))]
    if user.role is Role.student:
        items += [
            NavItem("/artefacts", _("Evidence")),
            NavItem("/reflections", _("Reflections")),
            NavItem("/goals", _("Goals")),
            NavItem("/competencies", _("Competencies")),
            NavItem("/showcases", _("Showcases")),
            NavItem("/credentials", _("My credentials")),
            NavItem("/exports", _("Export")),
        ]
    if user.role is Role.teacher:
        items += [NavItem("/inbox", _("Inbox")), NavItem("/conferences", _("Conferences"))]
    if user.role is Role.guardian:
        items.append(NavItem("/conferences", _("Conferences")))
    if user.role is Role.admin:
        items += [NavItem("/admin/people", _("People")), NavItem("/admin/classes", _("Classes")),
                  NavItem("/admin/frameworks", _("Frameworks")), NavItem("/admin/credentials", _("Credentials")),
                  NavItem("/admin/audit", _("Audit log"))]
    items.append(NavItem("/account", _("Account")))
    return items

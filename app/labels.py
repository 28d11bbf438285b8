"""Human names, in the current language, for stored values such as roles."""

from app.i18n import _, ngettext
from app.models import Role


def role_label(role: Role) -> str:
    return {
        Role.student: _("Student"),
        Role.teacher: _("Teacher"),
        Role.guardian: _("Family member"),
        Role.admin: _("Administrator"),
    }[role]


def role_count_label(role: Role, count: int) -> str:
    if role is Role.student:
        return ngettext("%(num)s student", "%(num)s students", count)
    if role is Role.teacher:
        return ngettext("%(num)s teacher", "%(num)s teachers", count)
    if role is Role.guardian:
        return ngettext("%(num)s family member", "%(num)s family members", count)
    return ngettext("%(num)s administrator", "%(num)s administrators", count)

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


def audience_options() -> list:
    from app.models import Audience

    return list(Audience)


def _speaks_as_owner(viewer_role: Role | None) -> bool:
    """Audience words are first person for students (who choose them) and for exports of their own work (no viewer);
    everyone else reads about the student."""
    return viewer_role is None or viewer_role is Role.student


def audience_label(audience, viewer_role: Role | None = None) -> str:
    from app.models import Audience

    if _speaks_as_owner(viewer_role):
        return {Audience.private: _("Private"), Audience.class_: _("My class"), Audience.family: _("My family")}[audience]
    return {
        Audience.private: _("Student and teachers"),
        Audience.class_: _("Class"),
        Audience.family: _("Family"),
    }[audience]


def audience_hint(audience, viewer_role: Role | None = None) -> str:
    from app.models import Audience

    if _speaks_as_owner(viewer_role):
        return {
            Audience.private: _("Only you and your teachers."),
            Audience.class_: _("Your classmates and teachers."),
            Audience.family: _("Your family and your teachers."),
        }[audience]
    return {
        Audience.private: _("Only the student and their teachers."),
        Audience.class_: _("The student's classmates and teachers."),
        Audience.family: _("The student's family and teachers."),
    }[audience]


def self_rating_label(*, viewer_id: int | None, owner_id: int | None) -> str:
    """The student's own rating, named for who reads it."""
    return _("My rating") if viewer_id is None or viewer_id == owner_id else _("Their self-assessment")


def footer_note(viewer_role: Role | None) -> str:
    if viewer_role is Role.student:
        return _("Folio keeps your learning on your school's own server. Nothing is shared without your say.")
    if viewer_role is Role.guardian:
        return _("Folio keeps your child's learning on the school's own server. Nothing is shared without their say.")
    if viewer_role in (Role.teacher, Role.admin):
        return _("Folio keeps your students' learning on the school's own server. Nothing is shared without their say.")
    return _("Folio keeps students' learning on their school's own server. Nothing is shared without their say.")


def kind_label(kind: str) -> str:
    return {
        "file": _("File"), "note": _("Note"), "link": _("Link"), "reflection": _("Reflection"), "goal": _("Goal"),
        "draft": _("Draft"), "published": _("Published"), "active": _("Active"), "achieved": _("Achieved"),
        "paused": _("Paused"), "dropped": _("Dropped"),
    }.get(kind, kind)


def media_label(media_kind) -> str:
    from app.models import MediaKind

    if media_kind is None:
        return ""
    return {
        MediaKind.image: _("Photo or image"), MediaKind.audio: _("Audio"), MediaKind.video: _("Video"),
        MediaKind.pdf: _("PDF"), MediaKind.document: _("Document"), MediaKind.text: _("Text file"),
    }[media_kind]


def file_size(size: int) -> str:
    from babel.numbers import format_decimal

    from app.i18n import get_locale

    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{format_decimal(round(size / factor, 1), locale=get_locale())} {unit}"
    return ngettext("%(num)s byte", "%(num)s bytes", size)

"""The sections a PDF export can have: their order in the document and their headings."""

from __future__ import annotations

from app.i18n import _

SECTION_ORDER = ("goals", "reflections", "evidence", "feedback", "competencies", "credentials")


def section_titles() -> dict[str, str]:
    """The heading of each section, in the current language."""
    return {
        "goals": _("Goals"),
        "reflections": _("Reflections"),
        "evidence": _("Evidence"),
        "feedback": _("Feedback"),
        "competencies": _("Competencies"),
        "credentials": _("Credentials"),
    }


def ordered_sections(sections: list[str] | tuple[str, ...]) -> list[str]:
    """The chosen sections in the document's order; ValueError for a name that isn't a section."""
    unknown = set(sections) - set(SECTION_ORDER)
    if unknown:
        raise ValueError(f"Unknown PDF sections: {sorted(unknown)}")
    return [name for name in SECTION_ORDER if name in sections]

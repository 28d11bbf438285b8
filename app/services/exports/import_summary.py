"""What an import did, as the plain text of its job's result (“What was imported.txt”): how many of each kind of
item came in, and every entry skipped named with its type, its title and why. Used by archive_import."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.i18n import _, ngettext


@dataclass
class ImportSummary:
    kind: str = ""  # "folio" or "leap2a"
    artefacts: int = 0
    reflections: int = 0
    goals: int = 0
    ratings: int = 0
    showcases: int = 0
    credentials: int = 0  # in the archive, left as they are (never re-issued)
    history_note: bool = False
    about: bool = False  # Mahara's "about me" went to the account
    skipped: int = 0
    already_here: list[str] = field(default_factory=list)  # "- Journal entry “Week one”", one line each
    not_imported: list[str] = field(default_factory=list)  # "- Comment “Nice”: comments aren't imported."
    messages: list[str] = field(default_factory=list)

    def as_text(self) -> str:
        """“What was imported”, as the plain text of the job's summary file."""
        lines = [_("What was imported"), ""]
        lines.append(ngettext("%(num)s piece of evidence", "%(num)s pieces of evidence", self.artefacts))
        lines.append(ngettext("%(num)s reflection", "%(num)s reflections", self.reflections))
        lines.append(ngettext("%(num)s goal", "%(num)s goals", self.goals))
        if self.kind == "folio":
            lines.append(ngettext("%(num)s self-assessment", "%(num)s self-assessments", self.ratings))
        lines.append(ngettext("%(num)s showcase", "%(num)s showcases", self.showcases))
        if self.about:
            lines.append(_("Your About me from Mahara is on your Account page."))
        if self.history_note:
            lines.append(_("Feedback and ratings from your previous school are kept in a private note."))
        if self.credentials:
            lines.append(ngettext(
                "%(num)s credential stays as it was: only the school that issued it can sign it, so it was not "
                "issued again here. It stays verifiable where it was issued; keep its file from the archive's "
                "credentials folder.",
                "%(num)s credentials stay as they were: only the school that issued them can sign them, so they were "
                "not issued again here. They stay verifiable where they were issued; keep their files from the "
                "archive's credentials folder.",
                self.credentials))
        if self.already_here:
            lines += ["", ngettext("%(num)s entry was already here from an earlier import, so it was skipped:",
                                   "%(num)s entries were already here from an earlier import, so they were skipped:",
                                   len(self.already_here)), *self.already_here]
        if self.not_imported:
            lines += ["", ngettext("%(num)s entry wasn't imported:", "%(num)s entries weren't imported:",
                                   len(self.not_imported)), *self.not_imported]
        if self.messages:
            lines += ["", *self.messages]
        return "\n".join(lines) + "\n"

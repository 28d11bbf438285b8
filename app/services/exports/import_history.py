"""The history note of a Folio import: what can't be recreated as it was in the new school (feedback and
teacher ratings from people who aren't here, ratings and competencies the school doesn't have), kept
read-only as one private Markdown note. Used by app.services.exports.import_folio."""

from __future__ import annotations

from collections.abc import Callable

from app.i18n import _


class HistoryNote:
    """What can't be recreated as it was, written as one Markdown note."""

    def __init__(self, *, label: Callable[[dict], str]) -> None:
        self.label = label  # a competency reference's name in words
        self.feedback_parts: list[str] = []
        self.teacher_parts: list[str] = []
        self.self_parts: list[str] = []
        self.link_parts: list[str] = []

    def feedback(self, doc: dict, title: str, *, recordings: dict[str, str]) -> None:
        """One comment and its replies; `recordings` gives the title of the evidence a spoken one came in as."""
        lines = [f"### {_quote(title)}", "", self._comment(doc, recordings)]
        for reply in doc["replies"]:
            lines += ["", "> " + self._comment(reply, recordings).replace("\n", "\n> ")]
        self.feedback_parts.append("\n".join(lines))

    def _comment(self, doc: dict, recordings: dict[str, str]) -> str:
        head = _("**%(author)s** (%(role)s), %(date)s:", author=_plain(doc["author"]), role=_role(doc["author_role"]),
                 date=doc["created_at"][:10])
        parts = [head]
        if doc["body"]:
            parts.append(doc["body"])
        for label, key in ((_("I noticed"), "noticed"), (_("I wonder"), "wonder"), (_("Next time"), "next_time"),
                           (_("Next step"), "next_step")):
            if doc[key]:
                parts.append(f"*{label}:* {doc[key]}")
        if doc.get("audio"):  # optional: older archives have none
            parts.append(_("*Spoken feedback:* the recording is in your evidence, private, as %(title)s.",
                           title=_quote(recordings.get(doc["audio"], doc["audio"]))))
        return "\n\n".join(parts)

    def teacher_rating(self, doc: dict) -> None:
        self.teacher_parts.append(self._rating(doc, rater=doc["rater"] or _("a teacher")))

    def unmatched_rating(self, doc: dict) -> None:
        self.self_parts.append(self._rating(doc, rater=None))

    def _rating(self, doc: dict, rater: str | None) -> str:
        competency = self.label(doc["competency"])
        line = _("- %(date)s, %(competency)s (%(framework)s): **%(level)s**", date=doc["created_at"][:10],
                 competency=_plain(competency), framework=_plain(doc["competency"]["framework"]), level=_plain(doc["level"]))
        if rater:
            line += " — " + _plain(rater)
        if doc["reason"]:
            line += "\n\n  " + doc["reason"].replace("\n", "\n  ")
        return line

    def unmatched_links(self, title: str, refs: list[dict]) -> None:
        for ref in refs:
            self.link_parts.append(_("- %(title)s: %(competency)s (%(framework)s)", title=_quote(title),
                                     competency=_plain(self.label(ref)), framework=_plain(ref["framework"])))

    def markdown(self) -> str:
        sections = []
        if self.feedback_parts:
            sections.append("## " + _("Feedback") + "\n\n" + "\n\n".join(self.feedback_parts))
        if self.teacher_parts:
            sections.append("## " + _("Teachers' ratings") + "\n\n" + "\n".join(self.teacher_parts))
        if self.self_parts:
            sections.append("## " + _("My ratings on competencies or levels this school doesn't have") + "\n\n"
                            + "\n".join(self.self_parts))
        if self.link_parts:
            sections.append("## " + _("Competencies this school doesn't have") + "\n\n" + "\n".join(self.link_parts))
        return "\n\n".join(sections)


def _plain(text: str) -> str:
    """Text for inside Markdown emphasis or a list item (no stray formatting characters)."""
    return " ".join(text.replace("*", "").replace("_", " ").split())


def _quote(text: str) -> str:
    return "“" + _plain(text) + "”"


def _role(role: str) -> str:
    return {"teacher": _("teacher"), "peer": _("classmate"), "family": _("family"), "student": _("me")}.get(role, role)

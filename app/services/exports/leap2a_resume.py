"""Mahara's résumé (mahara:plugin="resume") in Folio: goals become goals; skills, interests, the cover letter and
each entry of a composite (certifications, publications, memberships, employment and education history) become
notes tagged for what they are. A composite entry's siblings (the employer, the institution, the qualification)
are written into its note. Used by leap2a_import."""

from __future__ import annotations

from app.i18n import _
from app.models import Audience
from app.services.exports.leap2a_evidence import image_resolver, import_note, keep_dates
from app.services.exports.leap2a_feed import (
    Entry, attribute, children_named, entry_content, entry_dates, entry_relations, entry_tags, last_part,
)
from app.services.exports.leap2a_run import Run, entry_kind, title_of
from app.services.portfolio import artefacts
from app.services.portfolio import goals
from app.services.portfolio import timeline
from app.services.portfolio.goal_forms import GoalData

GOALS = {"personalgoal", "academicgoal", "careergoal"}
COMPOSITES = {"certification", "book", "membership", "employmenthistory", "educationhistory"}
NOTES = {"personalskill", "academicskill", "workskill", "interest", "coverletter"}


def is_resume(entry: Entry) -> bool:
    return entry.mahara_plugin == "resume" or entry.id.startswith(("portfolio:resumecomposite", "portfolio:resumesibling"))


def is_container(entry: Entry) -> bool:
    """A composite's own entry (a Grouping of its rows) or a sibling: brought in with the rows, not on their own."""
    return (entry.mahara_type in COMPOSITES and entry.leap_type == "selection") or entry.id.startswith("portfolio:resumesibling")


def tags_for(kind: str) -> list[str]:
    """The tags that say what a résumé entry was."""
    words = {
        "personalgoal": _("personal goal"), "academicgoal": _("academic goal"), "careergoal": _("career goal"),
        "personalskill": _("personal skill"), "academicskill": _("academic skill"), "workskill": _("work skill"),
        "interest": _("interests"), "coverletter": _("cover letter"), "certification": _("certification"),
        "book": _("publication"), "membership": _("membership"), "employmenthistory": _("employment"),
        "educationhistory": _("education"),
    }
    return [_("résumé"), words[kind]] if kind in words else [_("résumé")]


def import_resume_entry(run: Run, entry: Entry) -> int | None:
    """The item made of a résumé entry (a goal or a note), or None with the reason it was skipped."""
    kind = entry.mahara_type.removeprefix("pseudo:")
    if kind in GOALS:
        return _import_goal(run, entry, kind)
    if kind in NOTES:
        note = import_note(run, entry, extra_tags=tags_for(kind))
        return note.id if note else None
    if kind in COMPOSITES:
        note = import_note(run, entry, extra_tags=tags_for(kind), body=_composite_body(run, entry))
        return note.id if note else None
    run.skip(entry, _("this part of the résumé isn't imported."))
    return None


def _import_goal(run: Run, entry: Entry, kind: str) -> int | None:
    _type, text, _src = entry_content(entry, image_resolver(run))
    if not text.strip():
        run.skip(entry, _("it is empty."))
        return None
    # Mahara titles every goal of a kind alike ("Personal goals"): the first line of the text says more.
    first_line = next((line.strip(" #*-") for line in text.splitlines() if line.strip(" #*-")), "")
    title = (first_line if len(first_line) <= 120 else entry_kind(entry)) or title_of(entry, entry_kind(entry))
    data = GoalData(title=title[:200], why=text[:5000], success_criteria="", target_date=entry_dates(entry).get("target"),
                    audience=Audience.private, competency_ids=set(), steps=[],
                    tags=artefacts.normalise_tags(",".join([*tags_for(kind), *entry_tags(entry)])))
    goal = goals.create_goal(session=run.session, owner=run.student, data=data)
    keep_dates(run.session, goal, entry)
    timeline.sync_goal(session=run.session, goal=goal)
    run.summary.goals += 1
    return goal.id


def _composite_body(run: Run, entry: Entry) -> str:
    """The row's text, its dates, and what its siblings say (employer, institution, qualification, contribution)."""
    _type, text, _src = entry_content(entry)
    parts = [text.strip()] if text.strip() else []
    # Mahara writes a résumé row's dates as it was typed ("June 2019"), in leap2:label, the element left empty.
    dates = {(attribute(d, "point") or "start").lower(): (attribute(d, "label") or d.text or "").strip()
             for d in children_named(entry.element, "date")}
    start, end = dates.get("start", ""), dates.get("end", "")
    if start and end:
        parts.append(_("From %(start)s to %(end)s", start=start, end=end))
    elif start or end:
        parts.append(start or end)
    for rel, href in entry.links:
        sibling = run.by_id.get(href)
        if sibling is None or not sibling.id.startswith("portfolio:resumesibling") or last_part(rel) == "is_part_of":
            continue
        _stype, sibling_text, _ssrc = entry_content(sibling)
        line = sibling.title.strip()
        if sibling_text.strip():
            line = f"{line}: {sibling_text.strip()}" if line else sibling_text.strip()
        if line:
            parts.append(line)
    for href in entry_relations(entry, "related"):
        if href.startswith(("http://", "https://")):
            parts.append(href)
    return "\n\n".join(parts)

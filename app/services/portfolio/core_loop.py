"""The daily loop after saving evidence: reflect on it (linked, its competencies ticked), then "How am I doing?" on
those competencies. Each step can be skipped; the ids in the links are checked to be the student's own (else 404)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.access import load_own, not_an_attached_recording, not_found
from app.i18n import _
from app.models import (
    Artefact,
    ArtefactCompetency,
    Competency,
    ProficiencyLevel,
    Reflection,
    ReflectionArtefact,
    ReflectionCompetency,
    User,
)
from app.services.competencies import ratings
from app.services.competencies.competency_picker import allowed_ids, available_competencies
from app.services.forms import FORM, FormInput
from app.services.portfolio.reflections import ReflectionInput

MAX_ITEMS = 20  # a flow link names at most this many pieces of evidence (one upload's worth)
REASON_PREFILL = 300


def own_artefacts(*, session: Session, owner: User, artefact_ids: list[int]) -> list[Artefact]:
    """The owner's artefacts named in a flow link, in that order; any other id (someone else's, a recording, none
    at all) is a 404, as the item page would be."""
    wanted = list(dict.fromkeys(artefact_ids))[:MAX_ITEMS]
    if not wanted:
        return []
    found = {a.id: a for a in session.exec(
        select(Artefact).where(Artefact.id.in_(wanted), Artefact.owner_id == owner.id,
                               not_an_attached_recording(Artefact.id))).all()}
    if len(found) != len(wanted):
        raise not_found()
    return [found[i] for i in wanted]


def reflect_on(*, session: Session, owner: User, artefacts: list[Artefact]) -> ReflectionInput:
    """A new reflection filled in for the evidence just saved: linked to it, its competencies ticked, and (for one
    piece) its title, so a spoken reflection needs nothing typed."""
    data = ReflectionInput()
    data.artefact_ids = {a.id for a in artefacts}
    if not artefacts:
        return data
    allowed = allowed_ids(available_competencies(session=session, student=owner))
    tagged = session.exec(select(ArtefactCompetency.competency_id)
                          .where(ArtefactCompetency.artefact_id.in_(data.artefact_ids))).all()
    data.competency_ids = set(tagged) & allowed
    if len(artefacts) == 1:
        data.title = artefacts[0].title
    return data


@dataclass
class CheckInRow:
    competency: Competency
    levels: list[ProficiencyLevel]
    latest: ratings.LatestRating | None
    chosen: int | None = None


@dataclass
class CheckIn(FormInput):
    """The "How am I doing?" step: the competencies to rate, the evidence the ratings point to, where Done goes;
    once its form is read, the ratings `chosen` (and `errors`)."""

    rows: list[CheckInRow]
    artefacts: list[Artefact]
    reflection: Reflection | None
    reason: str = ""
    chosen: list[tuple[CheckInRow, ratings.RatingInput]] = field(default_factory=list)

    @property
    def done_url(self) -> str:
        if self.reflection is not None:
            return f"/reflections/{self.reflection.id}"
        if self.artefacts:
            return f"/artefacts/{self.artefacts[0].id}"
        return "/competencies"


def check_in(*, session: Session, student: User, artefact_ids: list[int], reflection_id: int | None) -> CheckIn:
    """The competencies of a reflection (or, when reflecting was skipped, of the evidence) that the student can rate
    now, each with its scale and their latest self-rating (a fixed number of queries)."""
    reflection = load_own(session, Reflection, reflection_id, student) if reflection_id else None
    if reflection is not None:
        artefact_ids = list(session.exec(select(ReflectionArtefact.artefact_id)
                                         .where(ReflectionArtefact.reflection_id == reflection.id)).all())
        competency_ids = set(session.exec(select(ReflectionCompetency.competency_id)
                                          .where(ReflectionCompetency.reflection_id == reflection.id)).all())
        artefacts = list(session.exec(select(Artefact).where(Artefact.id.in_(artefact_ids),
                                                             Artefact.owner_id == student.id)).all())
    else:
        artefacts = own_artefacts(session=session, owner=student, artefact_ids=artefact_ids)
        competency_ids = set(session.exec(select(ArtefactCompetency.competency_id).where(
            ArtefactCompetency.artefact_id.in_([a.id for a in artefacts]))).all())
    competency_ids &= allowed_ids(available_competencies(session=session, student=student))
    competencies = list(session.exec(select(Competency).where(Competency.id.in_(competency_ids))
                                     .order_by(Competency.framework_id, Competency.code)).all())
    scales: dict[int, list[ProficiencyLevel]] = {}
    for level in session.exec(select(ProficiencyLevel).where(
            ProficiencyLevel.framework_id.in_({c.framework_id for c in competencies}))
            .order_by(ProficiencyLevel.position, ProficiencyLevel.id)).all():
        scales.setdefault(level.framework_id, []).append(level)
    latest = ratings.latest_ratings(session=session, student_id=student.id, competency_ids=[c.id for c in competencies])
    rows = [CheckInRow(c, scales[c.framework_id], latest.get(c.id)) for c in competencies if scales.get(c.framework_id)]
    return CheckIn(rows=rows, artefacts=artefacts, reflection=reflection, reason=_reason_from(reflection))


def _reason_from(reflection: Reflection | None) -> str:
    # The reflection usually says why already; the student can still change it.
    if reflection is None:
        return ""
    if reflection.body.strip():
        text = " ".join(reflection.body.split())
        return text if len(text) <= REASON_PREFILL else text[:REASON_PREFILL].rsplit(" ", 1)[0] + "…"
    return _("I say why in my reflection “%(title)s”.", title=reflection.title)


def parse_check_in(*, check: CheckIn, levels: dict[int, str], reason: str) -> CheckIn:
    """Read the levels chosen (each from its own competency's scale; none chosen is left unrated) and the reason
    they share into `check`: its `chosen` ratings and `errors`."""
    chosen = check.chosen = []
    check.reason = reason.strip()
    for row in check.rows:
        level_id = levels.get(row.competency.id, "").strip()
        if not level_id:
            continue
        data = ratings.check_rating(
            competency=row.competency, levels=row.levels, level_id=level_id, text=reason, text_field="reason",
            no_level="", no_text=_("Say why you chose these levels, in a sentence or two."),
            text_too_long=lambda limit, n: _("Keep your reason under %(max)s characters (it has %(n)s).", max=limit, n=n),
        )
        row.chosen = data.level_id
        for name, message in data.errors.items():
            check.errors[f"level_{row.competency.id}" if name == "level_id" else name] = message
        data.artefact_ids = {a.id for a in check.artefacts}
        chosen.append((row, data))
    if not chosen and check.rows:
        check.errors[FORM] = _("Choose where you are on at least one competency, or press Done to leave it for now.")
    return check


def save_check_in(*, session: Session, student: User, chosen: list[tuple[CheckInRow, ratings.RatingInput]]) -> int:
    """A new self-rating for each competency rated, pointing at the evidence; returns how many."""
    for row, data in chosen:
        ratings.create_self_rating(session=session, student=student, competency=row.competency, data=data)
    return len(chosen)

"""Who may see a showcase, and its items resolved for display (the editor, the family view, the secret link,
the presentation all use these).

Rules, in keeping with app.access:
- the owner sees the showcase and everything in it;
- signed-in viewers see the showcase when its audience is one they may see of the owner (teachers: any but
  private ones are still visible to teachers, as every non-draft item is); guardians see a family showcase only
  once a teacher approved it as it is now, where a class of the student asks for that (app.services.moderation.approvals);
  inside it, each artefact, reflection
  or goal shows only when that viewer may see the item on its own (a private item in a family showcase stays
  hidden from the family, and family approval still applies); competency summaries and the student's own
  credentials (a badge card: the school vouches for it, and the student chose to show it) show to all who see it;
- a secret link shows the showcase and every item in it except drafts, read-only (the student chose them);
- anyone else gets 404.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from app.config import Settings
from app.models import (
    ApprovalStatus, Artefact, Audience, BadgeAssertion, Competency, Credential, Framework, Goal, GoalStep, ItemApproval, MediaKind,
    ProficiencyLevel, RatingSource, Reflection, ReflectionStatus, Role, School, Showcase, ShowcaseItem,
    ShowcaseItemType, User,
)
from app.access import (
    attached_recordings_among, audiences_among, needing_family_approval_among, not_found,
    valid_id, visible_among, visible_audiences,
)
from app.services.badges.credentials import CredentialView, credential_view
from app.services.badges.imported import badges_of
from app.services.competencies.ratings import latest_ratings


def showcase_visible_to(*, session: Session, viewer: User, showcase_id: int) -> Showcase:
    """A showcase `viewer` may open (signed in), or 404."""
    showcase = session.get(Showcase, showcase_id) if valid_id(showcase_id) else None
    if showcase is None or not can_see_showcase(session=session, viewer=viewer, showcase=showcase):
        raise not_found()
    return showcase


def can_see_showcase(*, session: Session, viewer: User, showcase: Showcase) -> bool:
    """True when `viewer` may see this showcase (not necessarily every item in it)."""
    if viewer.id == showcase.owner_id:
        return True
    if showcase.audience not in visible_audiences(session=session, viewer=viewer, owner_id=showcase.owner_id):
        return False
    return bool(_approved_for_family(session=session, viewer=viewer, showcases=[showcase]))


def _approved_for_family(*, session: Session, viewer: User, showcases: list[Showcase]) -> list[Showcase]:
    """The showcases (of one student or many) a viewer who may see their audience also passes the family approval rule
    for, in their order (two queries at most, none but for a guardian): it holds family showcases from guardians
    until approved, where a class of the student asks for that."""
    family = [s for s in showcases if s.audience is Audience.family and s.owner_id != viewer.id]
    if viewer.role is not Role.guardian or not family:
        return showcases
    careful = needing_family_approval_among(session=session, student_ids={s.owner_id for s in family})
    waiting = {s.id for s in family if s.owner_id in careful}
    if not waiting:
        return showcases
    approved = set(session.exec(
        select(ItemApproval.showcase_id).where(ItemApproval.showcase_id.in_(list(waiting)),
                                               ItemApproval.status == ApprovalStatus.approved)
    ).all())
    return [s for s in showcases if s.id not in waiting or s.id in approved]


def showcase_of_owner(*, session: Session, owner: User, showcase_id: int) -> Showcase:
    """One of `owner`'s own showcases (for editing), or 404."""
    showcase = session.get(Showcase, showcase_id) if valid_id(showcase_id) else None
    if showcase is None or showcase.owner_id != owner.id:
        raise not_found()
    return showcase


@dataclass
class CompetencySummary:
    competency: Competency
    framework: Framework
    self_level: ProficiencyLevel | None
    teacher_level: ProficiencyLevel | None
    scale: list[ProficiencyLevel] = field(default_factory=list)


@dataclass
class GoalSummary:
    goal: Goal
    steps: list[GoalStep] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for step in self.steps if step.done)

    @property
    def percent(self) -> int:
        return round(100 * self.done / len(self.steps)) if self.steps else 0


@dataclass
class ResolvedItem:
    """One showcase entry with the thing it points at: an Artefact, a Reflection, a GoalSummary, a CompetencySummary
    or a CredentialView."""

    entry: ShowcaseItem
    kind: ShowcaseItemType
    obj: Artefact | Reflection | GoalSummary | CompetencySummary | CredentialView
    audio: Artefact | None = None  # a spoken reflection's recording or an artefact's spoken caption, heard with it
    badge: BadgeAssertion | None = None  # the Open Badge an artefact carried (app.services.badges.imported)

    @property
    def audience(self) -> Audience | None:
        """The item's own audience (competency summaries and credentials have none: they show to all who see the
        showcase)."""
        obj = self.obj
        if isinstance(obj, GoalSummary):
            return obj.goal.audience
        if isinstance(obj, (CompetencySummary, CredentialView)):
            return None
        return obj.audience

    @property
    def title(self) -> str:
        obj = self.obj
        if isinstance(obj, GoalSummary):
            return obj.goal.title
        if isinstance(obj, CompetencySummary):
            return obj.competency.name
        if isinstance(obj, CredentialView):
            return obj.name
        return obj.title


def entries_of(*, session: Session, showcase: Showcase) -> list[ShowcaseItem]:
    """The showcase's entries in order."""
    return list(session.exec(
        select(ShowcaseItem).where(ShowcaseItem.showcase_id == showcase.id).order_by(ShowcaseItem.position, ShowcaseItem.id)
    ).all())


def resolve_items(
    *, session: Session, settings: Settings, showcase: Showcase, viewer: User | None, via_link: bool = False,
    entries: list[ShowcaseItem] | None = None,
) -> list[ResolvedItem]:
    """The showcase's entries, in order, with what each points at, as `viewer` may see them (`viewer=None` with
    `via_link=True`: a secret-link visitor). Entries whose item is gone or hidden are left out. A fixed number of
    queries whatever the number of items."""
    if entries is None:
        entries = entries_of(session=session, showcase=showcase)
    owner_id = showcase.owner_id
    ids: dict[ShowcaseItemType, list[int]] = {kind: [] for kind in ShowcaseItemType}
    for entry in entries:
        ids[entry.item_type].append(entry.target_id)

    def load(model, kind: ShowcaseItemType) -> dict[int, object]:
        if not ids[kind]:
            return {}
        rows = session.exec(select(model).where(model.id.in_(ids[kind]), model.owner_id == owner_id)).all()
        return {row.id: row for row in rows}

    artefacts = load(Artefact, ShowcaseItemType.artefact)
    reflections = load(Reflection, ShowcaseItemType.reflection)
    goals = load(Goal, ShowcaseItemType.goal)

    is_owner = viewer is not None and viewer.id == owner_id
    if not is_owner:
        reflections = {k: r for k, r in reflections.items() if r.status != ReflectionStatus.draft}
        # A recording put in on its own (before that was refused) is heard with its reflection, or not at all.
        for key in attached_recordings_among(session=session, ids=list(artefacts)):
            del artefacts[key]
        if not via_link:
            if viewer is None:
                return []
            for found in (artefacts, reflections, goals):
                allowed = {i.id for i in visible_among(session=session, viewer=viewer, owner_id=owner_id,
                                                       items=list(found.values()))}
                for key in list(found):
                    if key not in allowed:
                        del found[key]

    steps: dict[int, list[GoalStep]] = {goal_id: [] for goal_id in goals}
    if goals:
        for step in session.exec(select(GoalStep).where(GoalStep.goal_id.in_(list(goals)))
                                 .order_by(GoalStep.position, GoalStep.id)).all():
            steps[step.goal_id].append(step)

    summaries: dict[int, CompetencySummary] = {}
    if ids[ShowcaseItemType.competency]:
        rows = session.exec(
            select(Competency, Framework).join(Framework, Framework.id == Competency.framework_id)
            .where(Competency.id.in_(ids[ShowcaseItemType.competency]))
        ).all()
        framework_ids = {framework.id for _, framework in rows}
        scales: dict[int, list[ProficiencyLevel]] = {fid: [] for fid in framework_ids}
        if framework_ids:
            for level in session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id.in_(framework_ids))
                                      .order_by(ProficiencyLevel.position)).all():
                scales[level.framework_id].append(level)
        competency_ids = [competency.id for competency, _ in rows]
        own = latest_ratings(session=session, student_id=owner_id, source=RatingSource.self, competency_ids=competency_ids)
        teacher = latest_ratings(session=session, student_id=owner_id, source=RatingSource.teacher,
                                 competency_ids=competency_ids)
        for competency, framework in rows:
            summaries[competency.id] = CompetencySummary(
                competency, framework,
                own[competency.id].level if competency.id in own else None,
                teacher[competency.id].level if competency.id in teacher else None,
                scales[framework.id],
            )

    credentials = _credentials(session=session, settings=settings, owner_id=owner_id,
                               ids=ids[ShowcaseItemType.credential])
    audio = _recordings(session=session, owner_id=owner_id,
                        items=[*reflections.values(), *artefacts.values()])
    badges = badges_of(session=session, artefact_ids=list(artefacts))

    resolved: list[ResolvedItem] = []
    for entry in entries:
        obj: object | None
        if entry.item_type is ShowcaseItemType.artefact:
            obj = artefacts.get(entry.item_id)
        elif entry.item_type is ShowcaseItemType.reflection:
            obj = reflections.get(entry.item_id)
        elif entry.item_type is ShowcaseItemType.goal:
            goal = goals.get(entry.item_id)
            obj = GoalSummary(goal, steps[goal.id]) if goal is not None else None
        elif entry.item_type is ShowcaseItemType.credential:
            obj = credentials.get(entry.credential_id)
        else:
            obj = summaries.get(entry.competency_id)
        if obj is not None:
            recording = audio.get(obj.audio_artefact_id) if isinstance(obj, (Reflection, Artefact)) else None
            badge = badges.get(obj.id) if isinstance(obj, Artefact) else None
            resolved.append(ResolvedItem(entry, entry.item_type, obj, recording, badge))
    return resolved


def _credentials(*, session: Session, settings: Settings, owner_id: int, ids: list[int]) -> dict[int, CredentialView]:
    """The owner's own credentials among `ids` as badge cards, by id (one query; revoked ones too, shown as revoked)."""
    if not ids:
        return {}
    rows = session.exec(
        select(Credential, School.name).join(School, School.id == Credential.school_id)
        .where(Credential.id.in_(ids), Credential.student_id == owner_id)
    ).all()
    return {credential.id: credential_view(settings=settings, credential=credential, issuer_name=name)
            for credential, name in rows}


def _recordings(*, session: Session, owner_id: int, items: list[Reflection | Artefact]) -> dict[int, Artefact]:
    """The recordings of spoken reflections and the spoken captions of artefacts, by artefact id (one query).
    `items` are those the viewer (or the secret link) may see already, and a recording follows what it belongs to
    (artefacts.artefact_visible_to), so each is heard."""
    wanted = [i.audio_artefact_id for i in items if i.audio_artefact_id]
    if not wanted:
        return {}
    found = session.exec(select(Artefact).where(Artefact.id.in_(wanted), Artefact.owner_id == owner_id,
                                                Artefact.media_kind == MediaKind.audio)).all()
    return {artefact.id: artefact for artefact in found}


def showcases_visible_to(*, session: Session, viewer: User, owner_id: int) -> list[Showcase]:
    """`owner_id`'s showcases that `viewer` may open, newest first (one query after the audience check)."""
    return showcases_visible_among(session=session, viewer=viewer, owner_ids=[owner_id])[owner_id]


def showcases_visible_among(*, session: Session, viewer: User, owner_ids: Iterable[int]) -> dict[int, list[Showcase]]:
    """Each owner's showcases that `viewer` may open, newest first: showcases_visible_to for many owners at once (a
    guardian's children), in four queries at most whatever their number."""
    found: dict[int, list[Showcase]] = {owner_id: [] for owner_id in owner_ids}
    by_audiences: dict[frozenset[Audience], list[int]] = defaultdict(list)
    for owner_id, audiences in audiences_among(session=session, viewer=viewer, owner_ids=found).items():
        by_audiences[audiences].append(owner_id)
    if not by_audiences:
        return found
    showcases = list(session.exec(
        select(Showcase).where(or_(*(and_(Showcase.owner_id.in_(owners), Showcase.audience.in_(audiences))
                                     for audiences, owners in by_audiences.items())))
        .order_by(Showcase.updated_at.desc(), Showcase.id.desc())
    ).all())
    for showcase in _approved_for_family(session=session, viewer=viewer, showcases=showcases):
        found[showcase.owner_id].append(showcase)
    return found


def viewer_is_family(viewer: User | None) -> bool:
    return viewer is not None and viewer.role is Role.guardian

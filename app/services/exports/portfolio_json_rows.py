"""Everything a student's portfolio.json holds, loaded in a constant number of queries and given its refs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app.models import (
    Artefact,
    ArtefactCompetency,
    ArtefactKind,
    ArtefactTag,
    BadgeAssertion,
    CheckIn,
    CheckInArtefact,
    CheckInStep,
    Comment,
    CommentStatus,
    Competency,
    CompetencyRating,
    Framework,
    Goal,
    GoalCompetency,
    GoalStep,
    ProficiencyLevel,
    RatingArtefact,
    Reflection,
    ReflectionArtefact,
    ReflectionCompetency,
    ReflectionGoal,
    School,
    Showcase,
    ShowcaseItem,
    ShowcaseItemType,
    Tag,
    User,
)
from app.config import Settings
from app.services.badges.credentials import CredentialView
from app.services.badges import imported as imported_badges
from app.services.exports import export_credentials
from app.services.exports.portfolio_json import order_key


@dataclass
class PortfolioRows:
    """A student's rows, each kind in ref order, with the links between them by database id."""

    school: School | None
    artefacts: list[Artefact]
    artefact_refs: dict[int, str]
    badges: dict[int, BadgeAssertion]  # by artefact id
    reflections: list[Reflection]
    reflection_refs: dict[int, str]
    goals: list[Goal]
    goal_refs: dict[int, str]
    tags: dict[int, list[str]]  # artefact id → tag names
    artefact_competencies: dict[int, list[int]]
    reflection_artefacts: dict[int, list[int]]
    reflection_goals: dict[int, list[int]]
    reflection_competencies: dict[int, list[int]]
    goal_competencies: dict[int, list[int]]
    steps: dict[int, list[GoalStep]]  # by goal id
    checkins: dict[int, list[CheckIn]]  # by goal id
    checkin_artefacts: dict[int, list[int]]
    checkin_steps: dict[int, list[int]]
    ratings: list[tuple[CompetencyRating, str, str]]  # with the level's label and the rater's name
    rating_artefacts: dict[int, list[int]]
    comments: list[tuple[Comment, str]]  # visible ones, with the author's name
    credentials: list[CredentialView]  # in issue order
    credential_refs: dict[int, str]
    showcases: list[Showcase]
    showcase_items: dict[int, list[ShowcaseItem]]  # by showcase id
    competencies: dict[int, Competency]  # the ones used anywhere, with their ancestors
    frameworks: dict[int, Framework]
    levels: dict[int, list[ProficiencyLevel]]  # by framework id


def load_rows(*, session: Session, settings: Settings, student: User) -> PortfolioRows:
    """`student`'s portfolio rows and refs, whatever their number in a constant number of queries."""
    school = session.get(School, student.school_id)
    sid = student.id

    artefacts = list(session.exec(select(Artefact).where(Artefact.owner_id == sid)).all())
    artefacts.sort(key=lambda a: order_key(a.created_at, a.title, a.kind.value, a.id))
    artefact_refs = {a.id: f"artefact-{n}" for n, a in enumerate(artefacts, start=1)}
    badges = imported_badges.badges_of(session=session, artefact_ids=[a.id for a in artefacts
                                                                      if a.kind is ArtefactKind.file])

    reflections = list(session.exec(select(Reflection).where(Reflection.owner_id == sid)).all())
    reflections.sort(key=lambda r: order_key(r.created_at, r.title, r.id))
    reflection_refs = {r.id: f"reflection-{n}" for n, r in enumerate(reflections, start=1)}

    goals = list(session.exec(select(Goal).where(Goal.owner_id == sid)).all())
    goals.sort(key=lambda g: order_key(g.created_at, g.title, g.id))
    goal_refs = {g.id: f"goal-{n}" for n, g in enumerate(goals, start=1)}

    # Links, each one query for all items.
    tags: dict[int, list[str]] = {}
    for artefact_id, name in session.exec(
        select(ArtefactTag.artefact_id, Tag.name).join(Tag, Tag.id == ArtefactTag.tag_id).where(Tag.owner_id == sid)
    ).all():
        tags.setdefault(artefact_id, []).append(name)

    def links(key_column, value_column, owner_model, owner_key) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        rows = session.exec(select(key_column, value_column).join(owner_model, owner_model.id == key_column)
                            .where(owner_key == sid)).all()
        for key, value in rows:
            found.setdefault(key, []).append(value)
        return found

    artefact_competencies = links(ArtefactCompetency.artefact_id, ArtefactCompetency.competency_id,
                                  Artefact, Artefact.owner_id)
    reflection_artefacts = links(ReflectionArtefact.reflection_id, ReflectionArtefact.artefact_id,
                                 Reflection, Reflection.owner_id)
    reflection_goals = links(ReflectionGoal.reflection_id, ReflectionGoal.goal_id, Reflection, Reflection.owner_id)
    reflection_competencies = links(ReflectionCompetency.reflection_id,
                                    ReflectionCompetency.competency_id, Reflection, Reflection.owner_id)
    goal_competencies = links(GoalCompetency.goal_id, GoalCompetency.competency_id, Goal, Goal.owner_id)

    steps: dict[int, list[GoalStep]] = {}
    for step in session.exec(select(GoalStep).join(Goal, Goal.id == GoalStep.goal_id).where(Goal.owner_id == sid)
                             .order_by(GoalStep.position, GoalStep.id)).all():
        steps.setdefault(step.goal_id, []).append(step)
    checkins: dict[int, list[CheckIn]] = {}
    for checkin in session.exec(select(CheckIn).join(Goal, Goal.id == CheckIn.goal_id).where(Goal.owner_id == sid)).all():
        checkins.setdefault(checkin.goal_id, []).append(checkin)
    checkin_artefacts: dict[int, list[int]] = {}
    for checkin_id, artefact_id in session.exec(
        select(CheckInArtefact.checkin_id, CheckInArtefact.artefact_id).join(CheckIn, CheckIn.id == CheckInArtefact.checkin_id)
        .join(Goal, Goal.id == CheckIn.goal_id).where(Goal.owner_id == sid)
    ).all():
        checkin_artefacts.setdefault(checkin_id, []).append(artefact_id)
    checkin_steps: dict[int, list[int]] = {}
    for checkin_id, step_id in session.exec(
        select(CheckInStep.checkin_id, CheckInStep.step_id).join(CheckIn, CheckIn.id == CheckInStep.checkin_id)
        .join(Goal, Goal.id == CheckIn.goal_id).where(Goal.owner_id == sid)
    ).all():
        checkin_steps.setdefault(checkin_id, []).append(step_id)

    ratings = session.exec(
        select(CompetencyRating, ProficiencyLevel.label, User.display_name)
        .join(ProficiencyLevel, ProficiencyLevel.id == CompetencyRating.level_id)
        .join(User, User.id == CompetencyRating.rated_by_id)
        .where(CompetencyRating.student_id == sid)
    ).all()
    rating_artefacts: dict[int, list[int]] = {}
    for rating_id, artefact_id in session.exec(
        select(RatingArtefact.rating_id, RatingArtefact.artefact_id)
        .join(CompetencyRating, CompetencyRating.id == RatingArtefact.rating_id).where(CompetencyRating.student_id == sid)
    ).all():
        rating_artefacts.setdefault(rating_id, []).append(artefact_id)

    comments = session.exec(
        select(Comment, User.display_name).join(User, User.id == Comment.author_id)
        .where(Comment.owner_id == sid, Comment.status == CommentStatus.visible)
    ).all()

    # Credentials in issue order: their refs stay stable, and each file is its signed document as issued.
    credentials = export_credentials.credentials_of(session=session, settings=settings, student_id=sid)
    credential_refs = {view.credential.id: f"credential-{n}" for n, view in enumerate(credentials, start=1)}

    showcases = list(session.exec(select(Showcase).where(Showcase.owner_id == sid)).all())
    showcases.sort(key=lambda s: order_key(s.created_at, s.title, s.id))
    showcase_items: dict[int, list[ShowcaseItem]] = {}
    for item in session.exec(select(ShowcaseItem).join(Showcase, Showcase.id == ShowcaseItem.showcase_id)
                             .where(Showcase.owner_id == sid).order_by(ShowcaseItem.position, ShowcaseItem.id)).all():
        showcase_items.setdefault(item.showcase_id, []).append(item)

    # The competencies used anywhere, with their ancestors, frameworks and scales (three queries).
    used = {c for ids in (*artefact_competencies.values(), *reflection_competencies.values(), *goal_competencies.values())
            for c in ids}
    used |= {rating.competency_id for rating, _label, _name in ratings}
    used |= {item.competency_id for items in showcase_items.values() for item in items
             if item.item_type is ShowcaseItemType.competency}
    competencies: dict[int, Competency] = {}
    framework_ids: set[int] = set()
    if used:
        rows = session.exec(select(Competency).where(Competency.framework_id.in_(
            select(Competency.framework_id).where(Competency.id.in_(used))))).all()
        everything = {c.id: c for c in rows}
        for competency_id in used:
            current = everything.get(competency_id)
            while current is not None and current.id not in competencies:
                competencies[current.id] = current
                current = everything.get(current.parent_id) if current.parent_id else None
        framework_ids = {c.framework_id for c in competencies.values()}
    frameworks = {f.id: f for f in session.exec(select(Framework).where(Framework.id.in_(framework_ids))).all()} \
        if framework_ids else {}
    levels: dict[int, list[ProficiencyLevel]] = {}
    if framework_ids:
        for level in session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id.in_(framework_ids))
                                  .order_by(ProficiencyLevel.position, ProficiencyLevel.id)).all():
            levels.setdefault(level.framework_id, []).append(level)

    return PortfolioRows(
        school=school, artefacts=artefacts, artefact_refs=artefact_refs, badges=badges,
        reflections=reflections, reflection_refs=reflection_refs, goals=goals, goal_refs=goal_refs, tags=tags,
        artefact_competencies=artefact_competencies, reflection_artefacts=reflection_artefacts,
        reflection_goals=reflection_goals, reflection_competencies=reflection_competencies,
        goal_competencies=goal_competencies, steps=steps, checkins=checkins, checkin_artefacts=checkin_artefacts,
        checkin_steps=checkin_steps, ratings=list(ratings), rating_artefacts=rating_artefacts, comments=list(comments),
        credentials=credentials, credential_refs=credential_refs, showcases=showcases, showcase_items=showcase_items,
        competencies=competencies, frameworks=frameworks, levels=levels,
    )

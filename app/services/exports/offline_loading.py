"""Everything the offline website shows of a student's portfolio, loaded in a fixed number of queries."""

from __future__ import annotations

from sqlmodel import Session, select

from app.access import attached_recordings_among
from app.config import Settings
from app.models import (
    Artefact, ArtefactCompetency, ArtefactTag, CheckIn, CheckInArtefact, CheckInStep, Comment, CommentStatus,
    Competency, CompetencyRating, Framework, Goal, GoalCompetency, GoalStep, MediaKind, ProficiencyLevel,
    RatingArtefact, Reflection, ReflectionArtefact, ReflectionCompetency, ReflectionGoal, School, Showcase,
    ShowcaseItem, ShowcaseItemType, Tag, User,
)
from app.services.competencies.ratings import RatingView
from app.services.exports import export_credentials
from app.services.exports.offline_assets import plan_copies
from app.services.exports.offline_views import (
    ArtefactView, CheckInView, CommentView, CompetencyView, GoalView, Portfolio, ReflectionView, ShowcaseEntry,
    ShowcaseView,
)


def load_portfolio(
    *, session: Session, settings: Settings, student: User, prefix: str, file_paths: dict[int, str] | None
) -> Portfolio:
    """Everything the site shows of `student`'s portfolio, whatever its size in a fixed number of queries.

    With `file_paths` (artefact id → archive path of its original) the pages link to those; without, the site
    copies the originals it needs into `<prefix>files/`."""
    sid = student.id
    school = session.get(School, student.school_id)

    artefacts = list(session.exec(
        select(Artefact).where(Artefact.owner_id == sid).order_by(Artefact.occurred_on.desc(), Artefact.id.desc())
    ).all())
    a_views = {a.id: ArtefactView(a, f"evidence/artefact-{a.id}.html") for a in artefacts}
    for artefact_id in attached_recordings_among(session=session, ids=list(a_views)):
        a_views[artefact_id].recording = True
    for view in a_views.values():
        caption = a_views.get(view.artefact.audio_artefact_id) if view.artefact.audio_artefact_id else None
        if caption is not None and caption.artefact.media_kind is MediaKind.audio:  # the rule of caption_of
            view.caption = caption
    for name, artefact_id in session.exec(
        select(Tag.name, ArtefactTag.artefact_id).join(Tag, Tag.id == ArtefactTag.tag_id)
        .where(Tag.owner_id == sid).order_by(Tag.name)
    ).all():
        if artefact_id in a_views:
            a_views[artefact_id].tags.append(name)
    copies = plan_copies(settings=settings, views=list(a_views.values()), prefix=prefix, file_paths=file_paths)

    reflections = list(session.exec(
        select(Reflection).where(Reflection.owner_id == sid).order_by(Reflection.created_at.desc(), Reflection.id.desc())
    ).all())
    r_views = {r.id: ReflectionView(r, f"reflections/reflection-{r.id}.html") for r in reflections}
    goals = list(session.exec(
        select(Goal).where(Goal.owner_id == sid).order_by(Goal.created_at.desc(), Goal.id.desc())
    ).all())
    g_views = {g.id: GoalView(g, f"goals/goal-{g.id}.html") for g in goals}

    # Competency tags of the three kinds of item, and every rating: which competencies the archive shows.
    tagged: list[tuple[str, int, int]] = []
    if a_views:
        tagged += [("a", i, c) for i, c in session.exec(
            select(ArtefactCompetency.artefact_id, ArtefactCompetency.competency_id)
            .where(ArtefactCompetency.artefact_id.in_(list(a_views)))).all()]
    if r_views:
        tagged += [("r", i, c) for i, c in session.exec(
            select(ReflectionCompetency.reflection_id, ReflectionCompetency.competency_id)
            .where(ReflectionCompetency.reflection_id.in_(list(r_views)))).all()]
        for reflection_id, artefact_id in session.exec(
            select(ReflectionArtefact.reflection_id, ReflectionArtefact.artefact_id)
            .where(ReflectionArtefact.reflection_id.in_(list(r_views)))).all():
            if artefact_id in a_views:
                r_views[reflection_id].artefacts.append(a_views[artefact_id])
        for reflection_id, goal_id in session.exec(
            select(ReflectionGoal.reflection_id, ReflectionGoal.goal_id)
            .where(ReflectionGoal.reflection_id.in_(list(r_views)))).all():
            if goal_id in g_views:
                r_views[reflection_id].goals.append(g_views[goal_id])
        for view in r_views.values():
            audio_id = view.reflection.audio_artefact_id
            view.audio = a_views.get(audio_id) if audio_id else None
    if g_views:
        tagged += [("g", i, c) for i, c in session.exec(
            select(GoalCompetency.goal_id, GoalCompetency.competency_id)
            .where(GoalCompetency.goal_id.in_(list(g_views)))).all()]
        steps = {}
        for step in session.exec(select(GoalStep).where(GoalStep.goal_id.in_(list(g_views)))
                                 .order_by(GoalStep.position, GoalStep.id)).all():
            g_views[step.goal_id].steps.append(step)
            steps[step.id] = step
        checkins = {}
        for checkin in session.exec(select(CheckIn).where(CheckIn.goal_id.in_(list(g_views)))
                                    .order_by(CheckIn.occurred_on.desc(), CheckIn.id.desc())).all():
            checkins[checkin.id] = CheckInView(checkin)
            g_views[checkin.goal_id].checkins.append(checkins[checkin.id])
        if checkins:
            for checkin_id, artefact_id in session.exec(
                select(CheckInArtefact.checkin_id, CheckInArtefact.artefact_id)
                .where(CheckInArtefact.checkin_id.in_(list(checkins)))).all():
                if artefact_id in a_views:
                    checkins[checkin_id].artefacts.append(a_views[artefact_id])
            for row in session.exec(select(CheckInStep).where(CheckInStep.checkin_id.in_(list(checkins)))).all():
                if row.step_id in steps:
                    checkins[row.checkin_id].steps.append(steps[row.step_id])
        for view in g_views.values():
            closing_id = view.goal.closing_reflection_id
            view.closing = r_views.get(closing_id) if closing_id else None

    rating_rows = session.exec(
        select(CompetencyRating, ProficiencyLevel, User.display_name)
        .join(ProficiencyLevel, ProficiencyLevel.id == CompetencyRating.level_id)
        .join(User, User.id == CompetencyRating.rated_by_id)
        .where(CompetencyRating.student_id == sid)
        .order_by(CompetencyRating.created_at.desc(), CompetencyRating.id.desc())
    ).all()
    ratings = [RatingView(rating, level, rated_by_name=name) for rating, level, name in rating_rows]
    by_rating = {view.rating.id: view for view in ratings}
    if by_rating:
        for rating_id, artefact_id in session.exec(
            select(RatingArtefact.rating_id, RatingArtefact.artefact_id)
            .where(RatingArtefact.rating_id.in_(list(by_rating)))).all():
            if artefact_id in a_views:
                by_rating[rating_id].artefacts.append(a_views[artefact_id])

    showcases = list(session.exec(
        select(Showcase).where(Showcase.owner_id == sid).order_by(Showcase.updated_at.desc(), Showcase.id.desc())
    ).all())
    entries: list[ShowcaseItem] = []
    if showcases:
        entries = list(session.exec(
            select(ShowcaseItem).where(ShowcaseItem.showcase_id.in_([s.id for s in showcases]))
            .order_by(ShowcaseItem.position, ShowcaseItem.id)).all())

    wanted = ({c for _k, _i, c in tagged} | {v.rating.competency_id for v in ratings}
              | {e.competency_id for e in entries if e.item_type is ShowcaseItemType.competency})
    c_views: dict[int, CompetencyView] = {}
    competencies: dict[int, Competency] = {}
    if wanted:
        rows = session.exec(
            select(Competency, Framework).join(Framework, Framework.id == Competency.framework_id)
            .where(Competency.id.in_(list(wanted)), Framework.school_id == student.school_id)
        ).all()
        scales: dict[int, list[ProficiencyLevel]] = {framework.id: [] for _c, framework in rows}
        if scales:
            for level in session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id.in_(list(scales)))
                                      .order_by(ProficiencyLevel.position, ProficiencyLevel.id)).all():
                scales[level.framework_id].append(level)
        for competency, framework in sorted(rows, key=lambda row: (row[1].name, row[0].code)):
            competencies[competency.id] = competency
            c_views[competency.id] = CompetencyView(competency, framework, scales[framework.id])
    for view in ratings:
        if view.rating.competency_id in c_views:
            c_views[view.rating.competency_id].history.append(view)
    targets = {"a": a_views, "r": r_views, "g": g_views}
    for kind, item_id, competency_id in sorted(tagged, key=lambda t: competencies[t[2]].code if t[2] in competencies else ""):
        if competency_id in competencies and item_id in targets[kind]:
            targets[kind][item_id].competencies.append(competencies[competency_id])
            if kind == "a":
                c_views[competency_id].artefacts.append(a_views[item_id])

    credentials = export_credentials.credentials_of(session=session, settings=settings, student_id=sid)
    cred_views = {view.credential.id: view for view in credentials}

    by_showcase = {s.id: ShowcaseView(s, f"showcases/showcase-{s.id}.html") for s in showcases}
    for entry in entries:
        found: tuple[str, str] | None = None
        if entry.item_type is ShowcaseItemType.artefact and entry.item_id in a_views:
            found = a_views[entry.item_id].artefact.title, a_views[entry.item_id].page
        elif entry.item_type is ShowcaseItemType.reflection and entry.item_id in r_views:
            found = r_views[entry.item_id].reflection.title, r_views[entry.item_id].page
        elif entry.item_type is ShowcaseItemType.goal and entry.item_id in g_views:
            found = g_views[entry.item_id].goal.title, g_views[entry.item_id].page
        elif entry.item_type is ShowcaseItemType.competency and entry.competency_id in c_views:
            c_view = c_views[entry.competency_id]
            found = f"{c_view.competency.code} {c_view.competency.name}", f"competencies.html#{c_view.anchor}"
        elif entry.item_type is ShowcaseItemType.credential and entry.credential_id in cred_views:
            cred = cred_views[entry.credential_id]
            found = cred.name, f"credentials.html#credential-{cred.public_id}"
        if found is not None:
            by_showcase[entry.showcase_id].entries.append(ShowcaseEntry(entry, found[0], found[1], entry.item_type))
    s_views = list(by_showcase.values())

    threads: dict[int, list[CommentView]] = {}
    top: dict[int, CommentView] = {}
    replies: list[CommentView] = []
    for comment, author in session.exec(
        select(Comment, User).join(User, User.id == Comment.author_id)
        .where(Comment.owner_id == sid, Comment.status == CommentStatus.visible)
        .order_by(Comment.created_at, Comment.id)
    ).all():
        view = CommentView(comment, author)
        if comment.parent_id is None:
            top[comment.id] = view
            threads.setdefault(comment.item_id, []).append(view)
        else:
            replies.append(view)
    for view in replies:  # a reply under a hidden comment stays hidden with it
        if view.comment.parent_id in top:
            top[view.comment.parent_id].replies.append(view)

    return Portfolio(student, school, list(a_views.values()), list(r_views.values()), list(g_views.values()),
                     list(c_views.values()), s_views, threads, copies=copies, credentials=credentials)

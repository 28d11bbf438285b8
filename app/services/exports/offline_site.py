"""The offline website inside the portable archive: plain HTML pages a student opens from the file system.

`write_site` writes one page per artefact, reflection, goal and showcase, a competencies page, a credentials page
(each credential with its signed JSON file beside it) and a contents page
into an open ZIP, under `prefix` ("site/"). Everything links relatively (file:// has no server and no root), nothing
loads from another host, and no JavaScript is needed. Everything is loaded up front in a fixed number of queries,
then each page is rendered and written to the archive as it goes.

Decisions: the archive is the student's own, so drafts are included and marked "Draft"; a showcase's talking points
(the student's presenting notes) are kept under their item.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment
from markupsafe import Markup
from sqlmodel import Session, select

from app.access import attached_recordings_among
from app import storage as file_storage
from app.config import PROJECT_ROOT, Settings
from app.i18n import _, get_locale
from app.models import (
    Artefact, ArtefactCompetency, ArtefactKind, ArtefactTag, CheckIn, CheckInArtefact, CheckInStep, Comment,
    CommentStatus, Competency, CompetencyRating, Framework, Goal, GoalCompetency, GoalStep, ItemType, MediaKind,
    ProficiencyLevel, RatingArtefact, RatingSource, Reflection, ReflectionArtefact, ReflectionCompetency,
    ReflectionGoal, ReflectionStatus, School, Showcase, ShowcaseItem, ShowcaseItemType, Tag, User,
)
from app.models.base import utcnow
from app.services.badges.credentials import CredentialView
from app.services.competencies.charts import growth_chart_svg
from app.services.competencies.ratings import RatingView, growth_series
from app.services.exports import export_credentials
from app.storage import Storage
from app.storage.base import READ_CHUNK_BYTES

STYLESHEET = PROJECT_ROOT / "static" / "css" / "offline.css"
PROGRESS_EVERY = 20

Progress = Callable[[int, int, str], None]


# --- what the pages show -------------------------------------------------------------------------


@dataclass
class CommentView:
    comment: Comment
    author: User
    replies: list[CommentView] = field(default_factory=list)


@dataclass
class ArtefactView:
    artefact: Artefact
    page: str  # site-relative, e.g. "evidence/artefact-3.html"
    tags: list[str] = field(default_factory=list)
    competencies: list[Competency] = field(default_factory=list)
    original: str | None = None  # archive-relative path of the original file, when the archive holds it
    image: str | None = None  # archive-relative path of the picture to show
    recording: bool = False  # a reflection's recording, an evidence's caption or a comment's spoken feedback:
    # played there, not listed
    caption: ArtefactView | None = None  # its spoken caption, played on its page


@dataclass
class ReflectionView:
    reflection: Reflection
    page: str
    artefacts: list[ArtefactView] = field(default_factory=list)
    goals: list[GoalView] = field(default_factory=list)
    competencies: list[Competency] = field(default_factory=list)
    audio: ArtefactView | None = None

    @property
    def draft(self) -> bool:
        return self.reflection.status is ReflectionStatus.draft


@dataclass
class CheckInView:
    checkin: CheckIn
    artefacts: list[ArtefactView] = field(default_factory=list)
    steps: list[GoalStep] = field(default_factory=list)


@dataclass
class GoalView:
    goal: Goal
    page: str
    steps: list[GoalStep] = field(default_factory=list)
    competencies: list[Competency] = field(default_factory=list)
    checkins: list[CheckInView] = field(default_factory=list)
    closing: ReflectionView | None = None

    @property
    def done(self) -> int:
        return sum(1 for step in self.steps if step.done)


@dataclass
class CompetencyView:
    competency: Competency
    framework: Framework
    levels: list[ProficiencyLevel]
    history: list[RatingView] = field(default_factory=list)  # newest first
    artefacts: list[ArtefactView] = field(default_factory=list)
    chart: Markup | None = None

    @property
    def anchor(self) -> str:
        return f"competency-{self.competency.id}"

    @property
    def latest_self(self) -> RatingView | None:
        return next((v for v in self.history if v.rating.source is RatingSource.self), None)

    @property
    def latest_teacher(self) -> RatingView | None:
        return next((v for v in self.history if v.rating.source is RatingSource.teacher), None)


@dataclass
class ShowcaseEntry:
    item: ShowcaseItem
    title: str
    page: str  # site-relative, maybe with a #fragment
    kind: ShowcaseItemType


@dataclass
class ShowcaseView:
    showcase: Showcase
    page: str
    entries: list[ShowcaseEntry] = field(default_factory=list)


@dataclass
class Portfolio:
    student: User
    school: School | None
    artefacts: list[ArtefactView]
    reflections: list[ReflectionView]
    goals: list[GoalView]
    competencies: list[CompetencyView]
    showcases: list[ShowcaseView]
    threads: dict[int, list[CommentView]]
    credentials: list[CredentialView] = field(default_factory=list)
    # archive-relative source → archive-relative destination for files the site itself copies
    copies: dict[str, str] = field(default_factory=dict)


# --- loading (a fixed number of queries) ---------------------------------------------------------


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return cleaned[:80] or "file"


def _stored(settings: Settings, stored_name: str | None) -> str | None:
    """The stored file's key, or None when it is missing (or its name would leave the file store)."""
    if not stored_name:
        return None
    try:
        return stored_name if file_storage.uploads(settings).exists(stored_name) else None
    except ValueError:
        return None


def write_stored_file(archive: zipfile.ZipFile, *, store: Storage, key: str, name: str,
                      compress_type: int = zipfile.ZIP_DEFLATED, size: int = 0) -> None:
    """Stream a stored file into the archive as `name` (never whole in memory, wherever the store is)."""
    entry = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    entry.compress_type = compress_type
    entry.external_attr = 0o644 << 16
    # A streamed entry must be declared ZIP64 up front if it may pass 4 GiB.
    with store.open(key) as source, archive.open(entry, "w", force_zip64=size > 2**31 - 1) as target:
        shutil.copyfileobj(source, target, READ_CHUNK_BYTES)


def load_portfolio(
    *, session: Session, settings: Settings, student: User, prefix: str, file_paths: dict[int, str] | None
) -> Portfolio:
    """Everything the site shows of `student`'s portfolio, whatever its size in a fixed number of queries.

    With `file_paths` (artefact id → archive path of its original) the pages link to those; without, the site
    copies the originals it needs into `<prefix>files/`."""
    sid = student.id
    school = session.get(School, student.school_id)
    copies: dict[str, str] = {}

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
    for view in a_views.values():
        artefact = view.artefact
        if artefact.kind is not ArtefactKind.file:
            continue
        if file_paths is not None:
            view.original = file_paths.get(artefact.id)
        elif (source := _stored(settings, artefact.stored_name)) is not None:
            view.original = f"{prefix}files/{artefact.id}-{_safe_name(artefact.original_name or 'file')}"
            copies[view.original] = source
        if artefact.media_kind is MediaKind.image:
            if (thumb := _stored(settings, artefact.thumb_large)) is not None:
                view.image = f"{prefix}images/{artefact.id}.webp"
                copies[view.image] = thumb
            else:
                view.image = view.original

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


# --- rendering -----------------------------------------------------------------------------------


def _environment(settings: Settings) -> Environment:
    from app.templating import environment_for

    return environment_for(settings)


class _Writer:
    """Renders pages into the archive, each with links relative to where the page sits."""

    def __init__(self, *, archive: zipfile.ZipFile, prefix: str, env: Environment, base: dict, total: int,
                 progress: Progress | None):
        self.archive, self.prefix, self.env, self.base = archive, prefix, env, base
        self.total, self.progress, self.pages = total, progress, 0

    def page(self, name: str, template: str, **context) -> None:
        here = posixpath.dirname(self.prefix + name) or "."

        def site(target: str) -> str:
            """A link to a site page or asset ("goals/goal-3.html#x", "style.css"), relative to this page."""
            path, _hash, fragment = target.partition("#")
            rel = posixpath.relpath(self.prefix + path, here)
            return rel + (f"#{fragment}" if fragment else "")

        def archived(target: str) -> str:
            """A link to a file anywhere in the archive (archive-relative path), relative to this page."""
            return quote(posixpath.relpath(target, here), safe="/")

        html = self.env.get_template(template).render(**self.base, **context, site=site, archived=archived)
        self.archive.writestr(self.prefix + name, html)
        self.pages += 1
        if self.progress is not None and (self.pages % PROGRESS_EVERY == 0 or self.pages == self.total):
            self.progress(self.pages, self.total, _("Writing the offline website"))


def write_site(
    *, session: Session, settings: Settings, student: User, archive: zipfile.ZipFile, prefix: str = "site/",
    file_paths: dict[int, str] | None = None, credentials_written: bool = False, progress: Progress | None = None,
) -> int:
    """Write `student`'s portfolio as a static website into `archive` under `prefix`; the number of pages written.

    `file_paths` maps artefact ids to the archive paths of their originals (written by the caller); without it the
    site copies the originals into `<prefix>files/`. With `credentials_written`, the caller put each credential's
    JSON at its archive path (export_credentials.archive_path); without, the site writes them under `<prefix>`.
    Open `<prefix>index.html` from the file system to read it."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    portfolio = load_portfolio(session=session, settings=settings, student=student, prefix=prefix, file_paths=file_paths)
    for competency in portfolio.competencies:
        if competency.history:
            competency.chart = growth_chart_svg(
                levels=competency.levels, series=growth_series(competency.history),
                chart_id=f"growth-{competency.competency.id}",
                title=_("Ratings in %(code)s %(name)s over time", code=competency.competency.code,
                        name=competency.competency.name),
            )

    try:
        zone = ZoneInfo(settings.timezone)
    except (KeyError, ValueError):
        zone = None
    exported = utcnow().astimezone(zone) if zone else utcnow()
    base = {
        "lang": get_locale().replace("_", "-"),
        "student": student,
        "school": portfolio.school,
        "exported": exported,
        "threads": portfolio.threads,
        "artefact_by_id": {view.artefact.id: view for view in portfolio.artefacts},
        "item_types": ItemType,
        # The shared environment's markdown filter keeps, here, only the links that work from the file system.
        "offline_site": True,
    }
    total = 3 + len(portfolio.artefacts) + len(portfolio.reflections) + len(portfolio.goals) + len(portfolio.showcases)
    writer = _Writer(archive=archive, prefix=prefix, env=_environment(settings), base=base, total=total, progress=progress)

    archive.write(STYLESHEET, prefix + "style.css")
    store = file_storage.uploads(settings)
    for destination, source in portfolio.copies.items():
        write_stored_file(archive, store=store, key=source, name=destination)

    writer.page("index.html", "offline/index.html", portfolio=portfolio)
    for view in portfolio.artefacts:
        writer.page(view.page, "offline/artefact.html", view=view)
    for view in portfolio.reflections:
        writer.page(view.page, "offline/reflection.html", view=view)
    for view in portfolio.goals:
        writer.page(view.page, "offline/goal.html", view=view)
    writer.page("competencies.html", "offline/competencies.html", competencies=portfolio.competencies)
    credential_files = {}
    for view in portfolio.credentials:
        path = export_credentials.archive_path(view)
        if not credentials_written:
            path = prefix + path
            archive.writestr(path, export_credentials.file_bytes(view))
        credential_files[view.credential.id] = path
    writer.page("credentials.html", "offline/credentials.html", credentials=portfolio.credentials,
                credential_files=credential_files)
    for view in portfolio.showcases:
        writer.page(view.page, "offline/showcase.html", view=view)
    return writer.pages

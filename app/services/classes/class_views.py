"""A teacher's views of a class and its students: the overview table, the competency grid, one student's page.

Every view is a fixed number of queries whatever the class size: per-student figures come from grouped
aggregate subqueries (GROUP BY owner) joined to the roster, latest ratings from one window query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from app.access.relationships import students_in_class
from app.models import (
    Artefact,
    ClassFramework,
    Comment,
    CommentStatus,
    Competency,
    CompetencyRating,
    FeedbackRequest,
    Framework,
    Goal,
    GoalStatus,
    ProficiencyLevel,
    RatingSource,
    Reflection,
    ReflectionStatus,
    RequestStatus,
    SchoolClass,
    User,
)
from app.models.base import utcnow
from app.pagination import Page
from app.access import ALL_AUDIENCES, not_an_attached_recording, not_found, student_visible_to, visible_audiences
from app.services.competencies.competency_picker import CompetencyOption, nested
from app.services.portfolio.goals import GoalGroup, goals_overview
from app.services.portfolio.timeline import TimelineFilters, TimelineItem, timeline_page

QUIET_DAYS = 14
SORT_COLUMNS = ("name", "evidence", "reflection", "goals", "requests", "awaiting")
SORT_DIRECTIONS = ("asc", "desc")


# --- the class overview ------------------------------------------------------------------------


@dataclass
class OverviewRow:
    """One student's figures in the class overview."""

    student: User
    last_evidence: date | None
    last_reflection: datetime | None
    active_goals: int
    open_requests: int
    awaiting_approval: int
    quiet: bool  # no published reflection in the last QUIET_DAYS days

    def value(self, column: str):
        return {
            "name": self.student.display_name.casefold(), "evidence": self.last_evidence,
            "reflection": self.last_reflection, "goals": self.active_goals, "requests": self.open_requests,
            "awaiting": self.awaiting_approval,
        }[column]


@dataclass
class OverviewSort:
    column: str = "name"
    direction: str = "asc"

    def next_direction(self, column: str) -> str:
        """The direction a column header's link asks for: the other way round if it is the sorted one."""
        if column == self.column:
            return "desc" if self.direction == "asc" else "asc"
        return "asc" if column == "name" else "desc"

    def aria(self, column: str) -> str | None:
        """The aria-sort value of a column header (None when the table is not sorted by it)."""
        if column != self.column:
            return None
        return "ascending" if self.direction == "asc" else "descending"


def parse_sort(*, sort: str, direction: str) -> OverviewSort:
    """A sort from the query string; anything unknown means by name, A to Z."""
    column = sort if sort in SORT_COLUMNS else "name"
    return OverviewSort(column, direction if direction in SORT_DIRECTIONS else "asc")


def _grouped(owner_column, value, *conditions, name: str):
    """A subquery of one aggregate per student of the class: (owner_id, value)."""
    return (
        select(owner_column.label("owner_id"), value.label("value"))
        .where(*conditions)
        .group_by(owner_column)
        .subquery(name)
    )


def class_overview(
    *, session: Session, school_class: SchoolClass, sort: OverviewSort | None = None, today: date | None = None
) -> list[OverviewRow]:
    """One row per student of the class with their activity figures, sorted (one query, whatever the class size)."""
    sort = sort or OverviewSort()
    today = today or utcnow().date()
    students = students_in_class(school_class.id)
    evidence = _grouped(Artefact.owner_id, sa.func.max(Artefact.occurred_on), Artefact.owner_id.in_(students),
                        not_an_attached_recording(Artefact.id), name="evidence")
    reflections = _grouped(
        Reflection.owner_id, sa.func.max(sa.func.coalesce(Reflection.published_at, Reflection.created_at)),
        Reflection.owner_id.in_(students), Reflection.status == ReflectionStatus.published, name="reflections")
    goals = _grouped(Goal.owner_id, sa.func.count(), Goal.owner_id.in_(students), Goal.status == GoalStatus.active,
                     name="goals")
    requests = _grouped(FeedbackRequest.student_id, sa.func.count(), FeedbackRequest.student_id.in_(students),
                        FeedbackRequest.status == RequestStatus.open, name="requests")
    awaiting = _grouped(Comment.owner_id, sa.func.count(), Comment.owner_id.in_(students),
                        Comment.status.in_([CommentStatus.pending, CommentStatus.reported]), name="awaiting")
    statement = (
        select(User, evidence.c.value, reflections.c.value, goals.c.value, requests.c.value, awaiting.c.value)
        .outerjoin(evidence, evidence.c.owner_id == User.id)
        .outerjoin(reflections, reflections.c.owner_id == User.id)
        .outerjoin(goals, goals.c.owner_id == User.id)
        .outerjoin(requests, requests.c.owner_id == User.id)
        .outerjoin(awaiting, awaiting.c.owner_id == User.id)
        .where(User.id.in_(students), User.is_active == True)  # noqa: E712 (switched-off accounts leave daily lists)
        .order_by(User.display_name, User.id)
    )
    quiet_before = today - timedelta(days=QUIET_DAYS)
    rows = [
        OverviewRow(student, last_evidence, last_reflection, int(n_goals or 0), int(n_requests or 0),
                    int(n_awaiting or 0), quiet=last_reflection is None or last_reflection.date() < quiet_before)
        for student, last_evidence, last_reflection, n_goals, n_requests, n_awaiting in session.exec(statement).all()
    ]
    return sort_rows(rows, sort)


def sort_rows(rows: list[OverviewRow], sort: OverviewSort) -> list[OverviewRow]:
    """Rows by the chosen column (students without a date last either way), then by name."""
    by_name = sorted(rows, key=lambda row: (row.student.display_name.casefold(), row.student.id))
    known = [row for row in by_name if row.value(sort.column) is not None]
    unknown = [row for row in by_name if row.value(sort.column) is None]
    known.sort(key=lambda row: row.value(sort.column), reverse=sort.direction == "desc")  # stable: names stay in order
    return known + unknown


# --- the competency grid -----------------------------------------------------------------------


@dataclass
class GridColumn:
    framework: Framework
    option: CompetencyOption


@dataclass
class GridCell:
    latest_self: ProficiencyLevel | None = None
    latest_teacher: ProficiencyLevel | None = None

    @property
    def level_class(self) -> str:
        """A colour class for the cell, from the teacher's level (else the student's); the text says it too."""
        level = self.latest_teacher or self.latest_self
        return f"grid-level-{min(level.position, 6)}" if level else "grid-level-none"


@dataclass
class GridRow:
    student: User
    cells: list[GridCell] = field(default_factory=list)


@dataclass
class CompetencyGrid:
    frameworks: list[tuple[Framework, int]]  # each framework and how many columns it spans
    columns: list[GridColumn]
    rows: list[GridRow]


def grid_frameworks(*, session: Session, school_class: SchoolClass) -> list[Framework]:
    """The class's live frameworks; if it names none, all of the school's (one query)."""
    chosen = select(ClassFramework.framework_id).where(ClassFramework.class_id == school_class.id)
    statement = select(Framework).where(Framework.school_id == school_class.school_id, Framework.archived == False)  # noqa: E712
    uses_any = sa.exists(chosen.join(Framework, Framework.id == ClassFramework.framework_id)
                         .where(Framework.archived == False))  # noqa: E712
    statement = statement.where(sa.or_(Framework.id.in_(chosen), sa.not_(uses_any)))
    return list(session.exec(statement.order_by(Framework.name, Framework.id)).all())


def latest_class_ratings(
    *, session: Session, class_id: int, competency_ids: list[int]
) -> dict[tuple[int, int, RatingSource], ProficiencyLevel]:
    """The latest level of each student of the class on each competency, from each source, by
    (student id, competency id, source): one window query for the whole class."""
    if not competency_ids:
        return {}
    ranked = (
        select(
            CompetencyRating.id.label("rating_id"),
            sa.func.row_number().over(
                partition_by=(CompetencyRating.student_id, CompetencyRating.competency_id, CompetencyRating.source),
                order_by=(CompetencyRating.created_at.desc(), CompetencyRating.id.desc()),
            ).label("rank"),
        )
        .where(CompetencyRating.student_id.in_(students_in_class(class_id)),
               CompetencyRating.competency_id.in_(competency_ids))
        .subquery("ranked")
    )
    rows = session.exec(
        select(CompetencyRating.student_id, CompetencyRating.competency_id, CompetencyRating.source, ProficiencyLevel)
        .join(ranked, ranked.c.rating_id == CompetencyRating.id)
        .join(ProficiencyLevel, ProficiencyLevel.id == CompetencyRating.level_id)
        .where(ranked.c.rank == 1)
    ).all()
    return {(student_id, competency_id, source): level for student_id, competency_id, source, level in rows}


def competency_grid(*, session: Session, school_class: SchoolClass) -> CompetencyGrid:
    """Students by competencies, each cell the latest self- and teacher level (four queries, whatever the size)."""
    frameworks = grid_frameworks(session=session, school_class=school_class)
    by_framework: dict[int, list[Competency]] = {}
    if frameworks:
        for competency in session.exec(select(Competency).where(
                Competency.framework_id.in_([f.id for f in frameworks]), Competency.archived == False)).all():  # noqa: E712
            by_framework.setdefault(competency.framework_id, []).append(competency)
    columns = [GridColumn(f, option) for f in frameworks for option in nested(by_framework.get(f.id, []))]
    spans = [(f, sum(1 for c in columns if c.framework.id == f.id)) for f in frameworks]
    students = session.exec(
        select(User).where(User.id.in_(students_in_class(school_class.id))).order_by(User.display_name, User.id)
    ).all()
    latest = latest_class_ratings(session=session, class_id=school_class.id,
                                  competency_ids=[c.option.id for c in columns]) if students else {}
    rows = [
        GridRow(student, [GridCell(latest.get((student.id, c.option.id, RatingSource.self)),
                                   latest.get((student.id, c.option.id, RatingSource.teacher))) for c in columns])
        for student in students
    ]
    return CompetencyGrid([(f, n) for f, n in spans if n], columns, rows)


# --- one student, as their teacher sees them -----------------------------------------------------


def student_for_teacher(*, session: Session, teacher: User, student_id: int) -> User:
    """A student `teacher` teaches (so sees every audience of theirs but drafts), or 404."""
    student = student_visible_to(session=session, viewer=teacher, student_id=student_id)
    if visible_audiences(session=session, viewer=teacher, owner_id=student.id) != ALL_AUDIENCES:
        raise not_found()
    return student


@dataclass
class StudentView:
    student: User
    items: Page[TimelineItem]
    goals: list[GoalGroup]


def student_items(
    *, session: Session, teacher: User, student: User, filters: TimelineFilters | None = None, number: int = 1,
    size: int = 20,
) -> Page[TimelineItem]:
    """A page of the student's timeline as `teacher` may see it (no drafts), filtered or searched."""
    audiences = visible_audiences(session=session, viewer=teacher, owner_id=student.id)
    return timeline_page(session=session, owner_id=student.id, filters=filters or TimelineFilters(),
                         audiences=audiences, viewer_is_owner=False, number=number, size=size)


def student_view(*, session: Session, teacher: User, student: User, number: int = 1) -> StudentView:
    """A page of the student's timeline as `teacher` may see it (no drafts), and their goals with progress."""
    items = student_items(session=session, teacher=teacher, student=student, number=number)
    return StudentView(student, items, goals_overview(session=session, owner=student))

"""What a PDF export shows, gathered in a fixed number of queries: a student's chosen sections, or a showcase.

Drafts are left out (a PDF is something to hand to others), and only comments with status "visible" are included:
the ones everybody who sees the item sees, the student too (pending, reported and removed ones never are).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, select

from app.access import attached_recordings_among, not_an_attached_recording
from app.config import Settings
from app.models import (
    Artefact,
    MediaKind,
    Reflection,
    ReflectionStatus,
    School,
    Showcase,
    ShowcaseItemType,
    User,
)
from app.services.badges.credentials import CredentialView
from app.services.exports.export_credentials import credentials_of
from app.services.exports.pdf_competencies import competency_entries
from app.services.exports.pdf_entries import GoalEntry, PortfolioContent, ShowcaseEntry, anchor_of, image_key, is_image
from app.services.exports.pdf_feedback import feedback_groups
from app.services.exports.pdf_goals import checkins_of, goals_of
from app.services.exports.pdf_sections import ordered_sections
from app.services.portfolio.markdown import embedded_file_ids
from app.services.showcases.showcase_items import GoalSummary, resolve_items


def _day(value: date | datetime | None) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def gather_portfolio(
    *, session: Session, settings: Settings, student: User, sections: list[str], showcase: Showcase | None = None
) -> PortfolioContent:
    """Everything the PDF shows, for the chosen sections (or the showcase's items, in order), in a fixed number
    of queries: the school, then one per kind of thing (artefacts, reflections, goals, steps, check-ins, comments,
    ratings, competencies, scales, credentials)."""
    content = PortfolioContent(student=student, school=session.get(School, student.school_id),
                               sections=ordered_sections(sections), showcase=showcase)
    if showcase is not None:
        _gather_showcase(session=session, settings=settings, content=content)
    else:
        wanted = set(content.sections)
        if "goals" in wanted:
            content.goals = goals_of(session=session, owner_id=student.id)
        if "reflections" in wanted:
            content.reflections = list(session.exec(
                select(Reflection).where(Reflection.owner_id == student.id, Reflection.status == ReflectionStatus.published)
                .order_by(Reflection.created_at, Reflection.id)
            ).all())
        if "evidence" in wanted:
            # Recordings aside: paper can't play them, and they are part of their reflection (or comment).
            content.artefacts = list(session.exec(
                select(Artefact).where(Artefact.owner_id == student.id, not_an_attached_recording(Artefact.id))
                .order_by(Artefact.occurred_on, Artefact.id)
            ).all())
        if "competencies" in wanted:
            content.competencies = competency_entries(session=session, student_id=student.id)
        if "credentials" in wanted:
            content.credentials = credentials_of(session=session, settings=settings, student_id=student.id)
        if "feedback" in wanted:
            content.feedback = feedback_groups(session=session, owner_id=student.id, only=None)
    content.captioned = {a.id for a in content.artefacts if a.audio_artefact_id}
    for artefact in content.artefacts + _pictures_shown(session=session, content=content):
        if is_image(artefact):
            # The print JPEG made at upload is embedded as it is; older photos have only the WebP thumbnails.
            content.files[image_key(artefact)] = artefact.thumb_print or artefact.thumb_large or artefact.thumb_small
    _date_range(content)
    return content


def _pictures_shown(*, session: Session, content: PortfolioContent) -> list[Artefact]:
    """The student's pictures the reflections' texts show (a Mahara journal post's photos): printed with them, whatever
    their own audience, as on the reflection's page (one query)."""
    ids = {i for r in content.reflections for i in embedded_file_ids(r.body)}
    if not ids:
        return []
    return list(session.exec(select(Artefact).where(Artefact.id.in_(ids), Artefact.owner_id == content.student.id,
                                                    Artefact.media_kind == MediaKind.image)).all())


def _gather_showcase(*, session: Session, settings: Settings, content: PortfolioContent) -> None:

    resolved = resolve_items(session=session, settings=settings, showcase=content.showcase, viewer=content.student)
    recordings = attached_recordings_among(session=session,
                                           ids=[r.obj.id for r in resolved if isinstance(r.obj, Artefact)])
    resolved = [r for r in resolved if not (isinstance(r.obj, Reflection) and r.obj.status is ReflectionStatus.draft)
                and not (isinstance(r.obj, Artefact) and r.obj.id in recordings)]
    goal_ids = [r.obj.goal.id for r in resolved if isinstance(r.obj, GoalSummary)]
    checkins = checkins_of(session=session, goal_ids=goal_ids)
    competency_ids = [r.entry.competency_id for r in resolved if r.kind is ShowcaseItemType.competency]
    competencies = {entry.competency.id: entry for entry in competency_entries(
        session=session, student_id=content.student.id, competency_ids=competency_ids, with_unrated=True)}
    for item in resolved:
        obj = item.obj
        if isinstance(obj, GoalSummary):
            obj = GoalEntry(obj.goal, obj.steps, checkins.get(obj.goal.id, []))
            content.goals.append(obj)
        elif item.kind is ShowcaseItemType.competency:
            obj = competencies.get(item.entry.competency_id)
            if obj is None:
                continue
            content.competencies.append(obj)
        elif isinstance(obj, CredentialView):
            content.credentials.append(obj)
        elif isinstance(obj, Artefact):
            content.artefacts.append(obj)
        else:
            content.reflections.append(obj)
        content.showcase_items.append(ShowcaseEntry(item.kind.value, obj, anchor_of(item.kind.value, item.entry.target_id)))
    if "feedback" in content.sections:
        only = ({a.id for a in content.artefacts} | {r.id for r in content.reflections}
                | {g.goal.id for g in content.goals})
        content.feedback = feedback_groups(session=session, owner_id=content.student.id, only=only) if only else []


def _date_range(content: PortfolioContent) -> None:
    days: list[date] = []
    days += [a.occurred_on for a in content.artefacts]
    days += [_day(r.published_at or r.created_at) for r in content.reflections]
    for entry in content.goals:
        days.append(_day(entry.goal.created_at))
        days += [c.occurred_on for c in entry.checkins]
    for entry in content.competencies:
        days += [_day(view.rating.created_at) for view in entry.history]
    for group in content.feedback:
        days += [_day(c.comment.created_at) for c in group.comments]
    days += [_day(view.issued_at) for view in content.credentials]
    days = [d for d in days if d is not None]
    if days:
        content.first_date, content.last_date = min(days), max(days)

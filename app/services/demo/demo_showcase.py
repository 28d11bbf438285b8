"""The demo's conference season: Maya's showcase, ready to present, and her family's conference slot."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlmodel import Session, select

from app.access import relationships
from app.models import (
    Artefact, Audience, ClassRole, Competency, ConferenceInvite, ConferenceSlot, Framework, Goal,
    Reflection, Showcase, ShowcaseItem, ShowcaseItemType, User,
)
from app.models.base import utcnow

# (item type, title or competency code, talking points)
MAYA_SHOWCASE = [
    (ShowcaseItemType.artefact, "Volcano cross-section poster",
     "Point to the magma chamber first.\nSay why I used arrows for the flow."),
    (ShowcaseItemType.reflection, "Presenting the volcano poster",
     "Be honest: I was nervous.\nWhat helped: looking at the class, not the poster."),
    (ShowcaseItemType.competency, "COM.1", "Show how I went from Emerging to Proficient.\nThe book talk timer helped most."),
    (ShowcaseItemType.goal, "Speak up more in group discussions",
     "One step done: I write my idea down first.\nAsk my family: how do you share ideas at work?"),
    (ShowcaseItemType.artefact, "Our garden blog post", "I wrote the watering part.\nThe beans by the window grew faster."),
]


def seed_showcase(*, session: Session, school_id: int) -> Showcase | None:
    """Maya's "My term so far" showcase (family audience, ready) and a conference slot with her family invited."""
    maya = session.exec(select(User).where(User.school_id == school_id, User.username == "student")).first()
    if maya is None:
        return None
    showcase = Showcase(
        owner_id=maya.id, title="My term so far", audience=Audience.family, ready=True,
        introduction="Hi! This is what I'm proudest of this term, and what I'm working on next.\n\n"
                     "I'll show you **five things**, then I'd love to hear what you think.",
    )
    session.add(showcase)
    session.flush()
    by_title = {
        ShowcaseItemType.artefact: {a.title: a.id for a in session.exec(select(Artefact).where(Artefact.owner_id == maya.id))},
        ShowcaseItemType.reflection: {r.title: r.id for r in session.exec(select(Reflection).where(Reflection.owner_id == maya.id))},
        ShowcaseItemType.goal: {g.title: g.id for g in session.exec(select(Goal).where(Goal.owner_id == maya.id))},
        ShowcaseItemType.competency: {c.code: c.id for c in session.exec(
            select(Competency).join(Framework, Framework.id == Competency.framework_id).where(Framework.school_id == school_id))},
    }
    for position, (kind, key, points) in enumerate(MAYA_SHOWCASE):
        item_id = by_title[kind].get(key)
        if item_id is not None:
            session.add(ShowcaseItem.to(showcase_id=showcase.id, item_type=kind, target_id=item_id, position=position,
                                     talking_points=points))
    class_id = session.exec(relationships.classes_of(maya.id, ClassRole.student)).first()
    if class_id is not None:
        teacher_id = session.exec(relationships.teachers_in_class(class_id)).first()
        day = (utcnow() + timedelta(days=10)).date()
        slot = ConferenceSlot(class_id=class_id, student_id=maya.id, created_by_id=teacher_id,
                              starts_at=datetime.combine(day, time(17, 30), tzinfo=utcnow().tzinfo),
                              duration_minutes=20, location="Room 12",
                              note="Maya will lead; bring your questions!")
        session.add(slot)
        session.flush()
        for _student_id, guardian_id in session.exec(relationships.guardians_of([maya.id])):
            session.add(ConferenceInvite(slot_id=slot.id, guardian_id=guardian_id))
    session.flush()
    return showcase

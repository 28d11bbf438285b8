"""A school with two families for the digest tests (test_digests.py, test_digest_sending.py), and fixtures that
send their email to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import select

from app import storage
from app.models import (
    ApprovalStatus, Audience, Comment, CommentKind, CommentStatus, GuardianLink, ItemApproval, Role, User,
)
from app.models.base import utcnow
from app.services.portfolio import stored_files
from app.services.portfolio.artefacts import ArtefactInput, create_file_artefacts
from app.services.portfolio.goal_forms import GoalData
from app.services.badges import issuing
from app.services.portfolio.goals import achieve_goal, create_goal
from tests.conftest import make_settings
from tests.factories import make_class, make_note, make_reflection, make_school, make_user
from tests.media import jpeg_with_gps
from tests.test_mail import smtp_server  # noqa: F401 - the SMTP server fixture


@pytest.fixture
def inbox(smtp_server):  # noqa: F811
    return smtp_server[0]


@pytest.fixture
def settings(tmp_path, database_url, smtp_server):  # noqa: F811
    """The usual test settings, sending email to the test SMTP server."""
    _inbox, port = smtp_server
    return make_settings(tmp_path, database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                         mail_from="Folio <folio@school.example>")


@dataclass
class World:
    t0: datetime
    teacher: User
    maya: User
    leo: User
    zed: User
    parent: User  # Maya's and Leo's
    gran: User  # Zed's
    items: dict


def make_goal(session, owner, title, audience=Audience.family):
    goal = create_goal(session=session, owner=owner, data=GoalData(
        title=title, why="", success_criteria="", target_date=None, audience=audience, competency_ids=set(), steps=[]))
    session.commit()
    return goal


def teacher_comment(session, teacher, owner, item_type, item_id, body):
    comment = Comment(item_type=item_type, item_id=item_id, owner_id=owner.id, author_id=teacher.id,
                      kind=CommentKind.teacher, body=body, status=CommentStatus.visible)
    session.add(comment)
    session.commit()
    return comment


def make_photo(session, settings, tmp_path, owner, *, title="Our volcano", audience=Audience.family):
    """A photo uploaded through the service: stored, cleaned, with its WebP thumbnails."""
    source = tmp_path / f"photo-{owner.id}-{len(title)}.jpg"
    source.write_bytes(jpeg_with_gps(480, 320))
    stored = stored_files.store_path(path=source, store=storage.uploads(settings), owner_id=owner.id,
                                     original_name="volcano.jpg")
    (artefact,) = create_file_artefacts(session=session, owner=owner, files=[stored], data=ArtefactInput(
        title=title, description="We made it erupt", audience=audience, occurred_on=date.today()))
    session.commit()
    return artefact


def award_credential(session, settings, teacher, student, title, *, issued_at=None):
    """A credential the teacher signs for the student's achieved private goal, so that a digest has only the
    credential to tell of it (`issued_at`: moved to that moment)."""
    goal = make_goal(session, student, title, audience=Audience.private)
    achieve_goal(session=session, goal=goal, closing_text="Done.")
    session.commit()
    credential = issuing.issue_for_goal(session=session, settings=settings, teacher=teacher, goal_id=goal.id)
    if issued_at is not None:
        credential.issued_at = issued_at
    session.add(credential)
    session.commit()
    return credential


def link(session, guardian, child, when):
    session.add(GuardianLink(guardian_id=guardian.id, student_id=child.id, created_at=when))
    session.commit()


def build_world(session) -> World:
    """Two families; Leo's class holds family items for approval; each kind of thing a digest may or mustn't tell."""
    from app.models import ItemType

    t0 = utcnow() - timedelta(minutes=5)
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    maya = make_user(session, school, Role.student, display_name="Maya")
    leo = make_user(session, school, Role.student, display_name="Leo")
    zed = make_user(session, school, Role.student, display_name="Zed")
    make_class(session, school, teachers=[teacher], students=[maya, leo, zed])
    careful = make_class(session, school, teachers=[teacher], students=[leo])
    careful.family_items_need_approval = True
    session.add(careful)
    session.commit()
    parent = make_user(session, school, Role.guardian, display_name="Pat", email="pat@example.org")
    gran = make_user(session, school, Role.guardian, display_name="Gran", email="gran@example.org")
    for guardian, child in ((parent, maya), (parent, leo), (gran, zed)):
        session.add(GuardianLink(guardian_id=guardian.id, student_id=child.id, created_at=t0))
    session.commit()

    items = {
        "poem": make_note(session, maya, title="Poem: Sun & <Sky>", body="From the top of the hill\nI saw the sun",
                          audience=Audience.family),
        "diary": make_note(session, maya, title="Maya private diary", audience=Audience.private),
        "lab": make_note(session, maya, title="Maya class lab", audience=Audience.class_),
        "draft": make_reflection(session, maya, title="Maya draft thoughts", audience=Audience.family, draft=True),
        "song": make_note(session, leo, title="Leo unapproved song", audience=Audience.family),
        "dance": make_note(session, leo, title="Leo approved dance", audience=Audience.family),
        "drawing": make_note(session, zed, title="Zed family drawing", audience=Audience.family),
    }
    approval = session.exec(select(ItemApproval).where(ItemApproval.item_id == items["dance"].id)).one()
    approval.status, approval.reviewed_at, approval.reviewed_by_id = ApprovalStatus.approved, utcnow(), teacher.id
    session.add(approval)
    session.commit()
    goal = make_goal(session, maya, "Read ten books")
    items["closing"] = achieve_goal(session=session, goal=goal, closing_text="I read every evening before bed.")
    session.commit()
    items["goal"] = goal
    teacher_comment(session, teacher, maya, ItemType.artefact, items["poem"].id, "Your **imagery** is vivid.")
    teacher_comment(session, teacher, maya, ItemType.artefact, items["diary"].id, "Secret teacher note")
    teacher_comment(session, teacher, leo, ItemType.artefact, items["song"].id, "Hidden until approved")
    return World(t0, teacher, maya, leo, zed, parent, gran, items)


def week_later(world: World) -> datetime:
    return world.t0 + timedelta(days=7)


SECRETS = ("Maya private diary", "Maya class lab", "Maya draft thoughts", "Leo unapproved song", "Zed family drawing",
           "Secret teacher note", "Hidden until approved")

"""Family items waiting for a teacher's approval, where the student's class asks for it."""

from sqlmodel import select

from app.models import (
    ApprovalStatus, Artefact, Audience, ItemApproval, ItemType, Notification, NotificationKind, Role,
)
from app.services.moderation import notifications
from app.services.portfolio.goal_forms import GoalData
from app.services.portfolio.goals import create_goal
from tests.factories import link_guardian, login, make_class, make_note, make_reflection, make_school, make_user
from tests.media import png


def _family(session, *, approval: bool = True):
    """A teacher, Maya in their class, and Maya's mother."""
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    maya = make_user(session, school, display_name="Maya")
    mother = make_user(session, school, Role.guardian, display_name="Maya's mother")
    school_class = make_class(session, school, teachers=[teacher], students=[maya])
    school_class.family_items_need_approval = approval
    session.add(school_class)
    session.commit()
    link_guardian(session, mother, maya)
    return school, teacher, maya, mother


def _approval(session, item_type: ItemType, item_id: int) -> ItemApproval | None:
    session.expire_all()
    return session.exec(select(ItemApproval).where(ItemApproval.item_id == item_id)).first()


def _notifications(session, user, kind: NotificationKind) -> list[Notification]:
    session.expire_all()
    return list(session.exec(select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)).all())


def _goal(session, owner, *, title: str = "Read more", audience=Audience.family):
    data = GoalData(title=title, why="", success_criteria="", target_date=None, audience=audience,
                    competency_ids=set(), steps=[])
    goal = create_goal(session=session, owner=owner, data=data)
    session.commit()
    return goal


def test_a_family_file_stays_hidden_from_guardians_until_a_teacher_approves_it(client, new_client, session):
    _school, teacher, maya, mother = _family(session)
    login(client, maya)
    uploaded = client.post("/artefacts/upload", files=[("files", ("volcano.png", png(), "image/png")),
                                                       ("title", (None, "Volcano")), ("audience", (None, "family"))])
    assert uploaded.status_code == 303
    artefact = session.exec(select(Artefact).where(Artefact.owner_id == maya.id)).one()
    approval = _approval(session, ItemType.artefact, artefact.id)
    assert approval is not None and approval.status is ApprovalStatus.pending
    assert "Waiting for a teacher’s approval" in client.get(f"/artefacts/{artefact.id}").text

    family = new_client()
    login(family, mother)
    assert family.get(f"/artefacts/{artefact.id}").status_code == 404
    assert family.get(f"/files/{artefact.id}/original").status_code == 404

    staff = new_client()
    login(staff, teacher)
    inbox = staff.get("/inbox").text
    assert "Waiting for your approval before families see them" in inbox and "Volcano" in inbox
    assert staff.post(f"/approvals/{approval.id}/approve").status_code == 303

    assert _approval(session, ItemType.artefact, artefact.id).status is ApprovalStatus.approved
    assert family.get(f"/artefacts/{artefact.id}").status_code == 200
    assert family.get(f"/files/{artefact.id}/original").status_code == 200
    assert len(_notifications(session, maya, NotificationKind.item_approved)) == 1
    assert "Waiting for a teacher’s approval" not in client.get(f"/artefacts/{artefact.id}").text
    assert "Volcano" not in staff.get("/inbox").text


def test_returning_with_a_note_keeps_it_hidden_and_shows_the_note_to_the_student(client, new_client, session):
    _school, teacher, maya, mother = _family(session)
    reflection = make_reflection(session, maya, title="My week", audience=Audience.family)
    approval = _approval(session, ItemType.reflection, reflection.id)
    login(client, teacher)
    empty = client.post(f"/approvals/{approval.id}/return", data={"note": "  "})
    assert empty.status_code == 303
    assert _approval(session, ItemType.reflection, reflection.id).status is ApprovalStatus.pending
    assert not _notifications(session, maya, NotificationKind.item_returned)

    returned = client.post(f"/approvals/{approval.id}/return", data={"note": "Leave out your friend's surname."})
    assert returned.status_code == 303
    approval = _approval(session, ItemType.reflection, reflection.id)
    assert approval.status is ApprovalStatus.returned and approval.reviewed_by_id == teacher.id
    assert len(_notifications(session, maya, NotificationKind.item_returned)) == 1

    family = new_client()
    login(family, mother)
    assert family.get(f"/reflections/{reflection.id}").status_code == 404
    student = new_client()
    login(student, maya)
    page = student.get(f"/reflections/{reflection.id}").text
    assert "Returned by your teacher" in page and "Leave out your friend&#39;s surname." in page


def test_without_the_setting_guardians_see_family_items_at_once(client, session):
    _school, _teacher, maya, mother = _family(session, approval=False)
    note = make_note(session, maya, title="Poem", audience=Audience.family)
    reflection = make_reflection(session, maya, audience=Audience.family)
    goal = _goal(session, maya)
    assert session.exec(select(ItemApproval)).all() == []
    login(client, mother)
    assert client.get(f"/artefacts/{note.id}").status_code == 200
    assert client.get(f"/reflections/{reflection.id}").status_code == 200
    assert client.get(f"/goals/{goal.id}").status_code == 200
    page = client.get(f"/artefacts/{note.id}").text
    assert "Waiting for a teacher’s approval" not in page


def test_items_not_for_families_need_no_approval_and_drafts_wait_until_published(session):
    _school, _teacher, maya, _mother = _family(session)
    note = make_note(session, maya, audience=Audience.class_)
    draft = make_reflection(session, maya, audience=Audience.family, draft=True)
    assert _approval(session, ItemType.artefact, note.id) is None
    assert _approval(session, ItemType.reflection, draft.id) is None


def test_editing_an_approved_item_sends_it_back_for_approval(client, new_client, session):
    _school, teacher, maya, mother = _family(session)
    note = make_note(session, maya, title="Poem", audience=Audience.family)
    goal = _goal(session, maya)
    staff = new_client()
    login(staff, teacher)
    for item_type, item_id in [(ItemType.artefact, note.id), (ItemType.goal, goal.id)]:
        approval = _approval(session, item_type, item_id)
        assert staff.post(f"/approvals/{approval.id}/approve").status_code == 303
    family = new_client()
    login(family, mother)
    assert family.get(f"/artefacts/{note.id}").status_code == 200
    assert family.get(f"/goals/{goal.id}").status_code == 200

    login(client, maya)
    edited = client.post(f"/artefacts/{note.id}/edit", data={"title": "Poem", "body": "New words", "audience": "family"})
    assert edited.status_code == 303
    approval = _approval(session, ItemType.artefact, note.id)
    assert approval.status is ApprovalStatus.pending and approval.reviewed_at is None and approval.reviewed_by_id is None
    assert family.get(f"/artefacts/{note.id}").status_code == 404
    assert family.get(f"/goals/{goal.id}").status_code == 200  # the other item keeps its approval


def test_another_teacher_cannot_approve_or_return(client, session):
    school, _teacher, maya, mother = _family(session)
    stranger = make_user(session, school, Role.teacher, display_name="Mr Other")
    make_class(session, school, teachers=[stranger])
    note = make_note(session, maya, audience=Audience.family)
    approval = _approval(session, ItemType.artefact, note.id)
    login(client, stranger)
    assert client.post(f"/approvals/{approval.id}/approve").status_code == 404
    assert client.post(f"/approvals/{approval.id}/return", data={"note": "No"}).status_code == 404
    client.post("/approvals/approve", data={"approval_ids": [approval.id]})
    assert "Maya" not in client.get("/inbox").text
    assert _approval(session, ItemType.artefact, note.id).status is ApprovalStatus.pending
    assert not _notifications(session, maya, NotificationKind.item_approved)
    assert not _notifications(session, maya, NotificationKind.item_returned)


def test_guardians_and_students_cannot_approve(client, session):
    _school, _teacher, maya, mother = _family(session)
    note = make_note(session, maya, audience=Audience.family)
    approval = _approval(session, ItemType.artefact, note.id)
    for user in (mother, maya):
        login(client, user)
        assert client.post(f"/approvals/{approval.id}/approve").status_code in (403, 404)
    assert _approval(session, ItemType.artefact, note.id).status is ApprovalStatus.pending


def test_bulk_approve(client, new_client, session):
    _school, teacher, maya, mother = _family(session)
    notes = [make_note(session, maya, title=f"Note {n}", audience=Audience.family) for n in range(3)]
    ids = [_approval(session, ItemType.artefact, note.id).id for note in notes]
    login(client, teacher)
    nothing = client.post("/approvals/approve", data={"approval_ids": []})
    assert nothing.status_code == 303
    response = client.post("/approvals/approve", data={"approval_ids": ids[:2]})
    assert response.status_code == 303
    statuses = [_approval(session, ItemType.artefact, note.id).status for note in notes]
    assert statuses == [ApprovalStatus.approved, ApprovalStatus.approved, ApprovalStatus.pending]
    assert len(_notifications(session, maya, NotificationKind.item_approved)) == 2
    family = new_client()
    login(family, mother)
    assert [family.get(f"/artefacts/{note.id}").status_code for note in notes] == [200, 200, 404]


def test_inbox_runs_the_same_number_of_queries_for_3_or_15_approvals(client, session, count_queries):
    _school, teacher, maya, _mother = _family(session)
    login(client, teacher)

    def queries_with(total: int) -> int:
        while len(session.exec(select(ItemApproval)).all()) < total:
            make_note(session, maya, title="Family note", audience=Audience.family)
        with count_queries() as counter:
            page = client.get("/inbox")
        assert page.status_code == 200 and page.text.count('name="approval_ids"') == total
        return counter.count

    assert queries_with(3) == queries_with(15)


def test_turning_approval_on_later_queues_what_families_already_see(client, session, new_client):
    from app.models import Audience, ItemApproval, Role
    from tests.factories import link_guardian, login, make_class, make_note, make_school, make_user

    school = make_school(session)
    teacher, student, guardian = (make_user(session, school, role) for role in (Role.teacher, Role.student, Role.guardian))
    school_class = make_class(session, school, teachers=[teacher], students=[student])
    link_guardian(session, guardian, student)
    shared = make_note(session, student, title="Shared before the rule", audience=Audience.family)
    family = new_client()
    login(family, guardian)
    assert family.get(f"/artefacts/{shared.id}").status_code == 200
    login(client, teacher)
    response = client.post(f"/classes/{school_class.id}/settings",
                           data={"family_items_need_approval": "true", "classmates_see_class_items": "true"})
    assert response.status_code == 303
    assert family.get(f"/artefacts/{shared.id}").status_code == 404
    pending = session.exec(select(ItemApproval).where(ItemApproval.item_id == shared.id)).one()
    assert pending.status.value == "pending"
    assert "Shared before the rule" in client.get("/inbox").text

    # Turned off again: nothing waits any more, and families see the item at once.
    client.post(f"/classes/{school_class.id}/settings", data={"classmates_see_class_items": "true"})
    session.expire_all()
    assert session.exec(select(ItemApproval).where(ItemApproval.item_id == shared.id)).first() is None
    assert "Shared before the rule" not in client.get("/inbox").text
    assert family.get(f"/artefacts/{shared.id}").status_code == 200


def test_teachers_are_told_when_an_item_starts_waiting_not_at_every_edit(client, new_client, session):
    _school, teacher, maya, _mother = _family(session)
    other_school = make_school(session)
    stranger = make_user(session, other_school, Role.teacher)
    login(client, maya)
    client.post("/artefacts/note", data={"title": "Poem", "body": "Words", "audience": "family"})
    session.expire_all()
    note_id = session.exec(select(ItemApproval)).one().item_id
    (waiting,) = _notifications(session, teacher, NotificationKind.item_waiting)
    assert waiting.link == "/inbox" and notifications.message(waiting) == "Maya shared “Poem” with their family; it waits for your approval."
    client.post(f"/artefacts/{note_id}/edit", data={"title": "Poem", "body": "More words", "audience": "family"})
    assert len(_notifications(session, teacher, NotificationKind.item_waiting)) == 1  # still the same wait
    staff = new_client()
    login(staff, teacher)
    staff.post(f"/approvals/{_approval(session, ItemType.artefact, note_id).id}/approve")
    client.post(f"/artefacts/{note_id}/edit", data={"title": "Poem", "body": "Changed again", "audience": "family"})
    assert len(_notifications(session, teacher, NotificationKind.item_waiting)) == 2  # a new wait after approval
    assert _notifications(session, stranger, NotificationKind.item_waiting) == []

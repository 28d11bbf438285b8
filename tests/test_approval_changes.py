"""An approval covers the item as a teacher approved it: a later change to what families would read sends it back to
the teacher (families see nothing of it meanwhile), and the teacher's inbox shows what changed. Showcases too."""

from html import unescape

from sqlmodel import select

from app.models import (
    ApprovalStatus, Audience, GoalStep, ItemApproval, ItemType, Notification, NotificationKind, Reflection, Role,
    Showcase,
)
from tests.factories import (
    link_guardian, login, make_class, make_note, make_reflection, make_school, make_user, post_multipart,
)


def _family(session, *, approval: bool = True):
    """Ms Rivera's class (asking for approval of family items), Maya in it, and Maya's mother."""
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    maya = make_user(session, school, display_name="Maya")
    mother = make_user(session, school, Role.guardian, display_name="Maya's mother")
    school_class = make_class(session, school, teachers=[teacher], students=[maya])
    school_class.family_items_need_approval = approval
    session.add(school_class)
    session.commit()
    link_guardian(session, mother, maya)
    return teacher, maya, mother


def _approval(session, item_type: ItemType | None = None, item_id: int | None = None, *,
              showcase_id: int | None = None) -> ItemApproval | None:
    session.expire_all()
    if showcase_id is not None:
        return session.exec(select(ItemApproval).where(ItemApproval.showcase_id == showcase_id)).first()
    return session.exec(select(ItemApproval).where(ItemApproval.item_id == item_id)).first()


def _approve(client, approval: ItemApproval) -> None:
    response = client.post(f"/approvals/{approval.id}/approve")
    assert response.status_code == 303, response.text


def _clients(new_client, teacher, maya, mother):
    student, staff, family = new_client(), new_client(), new_client()
    login(student, maya)
    login(staff, teacher)
    login(family, mother)
    return student, staff, family


def _new_goal(student, session, maya, *, title="Read more", steps=("Read ten minutes",)):
    response = student.post("/goals/new", data={"title": title, "why": "Books are fun", "success_criteria": "",
                                                "target_date": "", "audience": "family", "steps": list(steps)})
    assert response.status_code == 303, response.text
    from app.models import Goal

    session.expire_all()
    return session.exec(select(Goal).where(Goal.owner_id == maya.id, Goal.title == title)).one()


def _approved_goal(session, student, staff, family, maya, **kwargs):
    goal = _new_goal(student, session, maya, **kwargs)
    _approve(staff, _approval(session, ItemType.goal, goal.id))
    assert family.get(f"/goals/{goal.id}").status_code == 200
    return goal


def _edit_goal(student, goal, **changes):
    values = {"title": goal.title, "why": goal.why, "success_criteria": goal.success_criteria, "target_date": "",
              "audience": "family"}
    values.update(changes)
    response = student.post(f"/goals/{goal.id}/edit", data=values)
    assert response.status_code == 303, response.text


def _inbox_section(staff) -> str:
    page = unescape(staff.get("/inbox").text)
    return page[page.index('id="approvals"'):] if 'id="approvals"' in page else ""


def _family_sees_nothing_of(family, maya, goal, *words):
    assert family.get(f"/goals/{goal.id}").status_code == 404
    child = unescape(family.get(f"/family/children/{maya.id}").text)
    home = unescape(family.get("/family").text)
    digest = unescape(family.get("/family/digest").text)
    for word in words:
        assert word not in child and word not in home and word not in digest, word


# --- goals ---------------------------------------------------------------------------------------


def test_an_approved_goal_renamed_waits_for_approval_again_and_the_inbox_shows_the_change(new_client, session):
    teacher, maya, mother = _family(session)
    student, staff, family = _clients(new_client, teacher, maya, mother)
    goal = _approved_goal(session, student, staff, family, maya)
    assert "Read more" in unescape(family.get(f"/family/children/{maya.id}").text)

    _edit_goal(student, goal, title="Read every single day", why="Books are great")
    approval = _approval(session, ItemType.goal, goal.id)
    assert approval.status is ApprovalStatus.pending
    _family_sees_nothing_of(family, maya, goal, "Read every single day", "Read more")
    assert "You changed it after a teacher approved it" in student.get(f"/goals/{goal.id}").text

    inbox = _inbox_section(staff)
    assert "Changed since you approved it" in inbox
    assert "Read more" in inbox and "Read every single day" in inbox  # before and after
    assert "Books are fun" in inbox and "Books are great" in inbox

    _approve(staff, approval)
    page = unescape(family.get(f"/goals/{goal.id}").text)
    assert "Read every single day" in page
    assert "Read every single day" in unescape(family.get(f"/family/children/{maya.id}").text)


def test_a_step_added_or_renamed_on_an_approved_goal_waits_for_approval(new_client, session):
    teacher, maya, mother = _family(session)
    student, staff, family = _clients(new_client, teacher, maya, mother)
    goal = _approved_goal(session, student, staff, family, maya)

    assert student.post(f"/goals/{goal.id}/steps", data={"text": "Visit the library"}).status_code == 303
    approval = _approval(session, ItemType.goal, goal.id)
    assert approval.status is ApprovalStatus.pending
    _family_sees_nothing_of(family, maya, goal, "Visit the library")
    inbox = _inbox_section(staff)
    assert "Added" in inbox and "Visit the library" in inbox
    _approve(staff, approval)
    assert "Visit the library" in unescape(family.get(f"/goals/{goal.id}").text)

    step = session.exec(select(GoalStep).where(GoalStep.goal_id == goal.id, GoalStep.text == "Visit the library")).one()
    renamed = student.post(f"/goals/{goal.id}/steps/{step.id}/rename", data={"text": "Visit the big library"})
    assert renamed.status_code == 303
    assert _approval(session, ItemType.goal, goal.id).status is ApprovalStatus.pending
    _family_sees_nothing_of(family, maya, goal, "Visit the big library")
    inbox = _inbox_section(staff)
    assert "Visit the big library" in inbox and "Removed" in inbox and "Visit the library" in inbox


def test_a_checkin_on_an_approved_goal_waits_for_approval(new_client, session):
    teacher, maya, mother = _family(session)
    student, staff, family = _clients(new_client, teacher, maya, mother)
    goal = _approved_goal(session, student, staff, family, maya)

    checkin = student.post(f"/goals/{goal.id}/checkins", data={"occurred_on": "2026-11-20", "note": "Read a whole chapter"})
    assert checkin.status_code == 303, checkin.text
    approval = _approval(session, ItemType.goal, goal.id)
    assert approval.status is ApprovalStatus.pending
    _family_sees_nothing_of(family, maya, goal, "Read a whole chapter")
    assert "Read a whole chapter" in _inbox_section(staff)
    _approve(staff, approval)
    assert "Read a whole chapter" in unescape(family.get(f"/goals/{goal.id}").text)


def test_ticking_a_step_or_pausing_a_goal_keeps_its_approval(new_client, session):
    """No new words for families to read, so nothing for a teacher to look at again."""
    teacher, maya, mother = _family(session)
    student, staff, family = _clients(new_client, teacher, maya, mother)
    goal = _approved_goal(session, student, staff, family, maya)
    step = session.exec(select(GoalStep).where(GoalStep.goal_id == goal.id)).one()
    assert student.post(f"/goals/{goal.id}/steps/{step.id}/toggle", data={"done": "true"}).status_code == 303
    assert student.post(f"/goals/{goal.id}/status", data={"action": "pause"}).status_code == 303
    _edit_goal(student, goal)  # saved as it was
    assert _approval(session, ItemType.goal, goal.id).status is ApprovalStatus.approved
    assert family.get(f"/goals/{goal.id}").status_code == 200


def test_the_closing_reflection_of_an_achieved_family_goal_waits_for_approval(new_client, session):
    teacher, maya, mother = _family(session)
    student, staff, family = _clients(new_client, teacher, maya, mother)
    goal = _approved_goal(session, student, staff, family, maya)
    achieved = student.post(f"/goals/{goal.id}/achieve", data={"closing_text": "I read every night this month."})
    assert achieved.status_code == 303
    reflection = session.exec(select(Reflection).where(Reflection.owner_id == maya.id)).one()
    approval = _approval(session, ItemType.reflection, reflection.id)
    assert approval is not None and approval.status is ApprovalStatus.pending
    assert family.get(f"/reflections/{reflection.id}").status_code == 404
    assert "I read every night this month." in _inbox_section(staff) or reflection.title in _inbox_section(staff)
    _approve(staff, approval)
    assert family.get(f"/reflections/{reflection.id}").status_code == 200


# --- artefacts and reflections -------------------------------------------------------------------


def test_an_approved_artefact_edited_waits_again_and_the_inbox_shows_before_and_after(new_client, session):
    teacher, maya, mother = _family(session)
    student, staff, family = _clients(new_client, teacher, maya, mother)
    note = make_note(session, maya, title="Poem", body="Roses are red", audience=Audience.family)
    _approve(staff, _approval(session, ItemType.artefact, note.id))
    assert family.get(f"/artefacts/{note.id}").status_code == 200

    # Saved as it was, with the same words: still approved.
    same = student.post(f"/artefacts/{note.id}/edit", data={"title": "Poem", "body": "Roses are red", "audience": "family"})
    assert same.status_code == 303
    assert _approval(session, ItemType.artefact, note.id).status is ApprovalStatus.approved

    edited = student.post(f"/artefacts/{note.id}/edit", data={"title": "Poem", "body": "Violets are blue",
                                                              "description": "For my gran", "audience": "family"})
    assert edited.status_code == 303
    assert _approval(session, ItemType.artefact, note.id).status is ApprovalStatus.pending
    assert family.get(f"/artefacts/{note.id}").status_code == 404
    assert "Poem" not in unescape(family.get(f"/family/children/{maya.id}").text)
    inbox = _inbox_section(staff)
    assert "Roses are red" in inbox and "Violets are blue" in inbox and "For my gran" in inbox
    assert "Changed since you approved it" in inbox


def test_taking_an_approved_item_off_family_and_back_with_new_words_waits_again(new_client, session):
    teacher, maya, mother = _family(session)
    student, staff, family = _clients(new_client, teacher, maya, mother)
    note = make_note(session, maya, title="Poem", body="Roses are red", audience=Audience.family)
    _approve(staff, _approval(session, ItemType.artefact, note.id))
    student.post(f"/artefacts/{note.id}/edit", data={"title": "Poem", "body": "Something else", "audience": "private"})
    student.post(f"/artefacts/{note.id}/edit", data={"title": "Poem", "body": "Something else", "audience": "family"})
    assert _approval(session, ItemType.artefact, note.id).status is ApprovalStatus.pending
    assert family.get(f"/artefacts/{note.id}").status_code == 404


def test_an_approved_reflection_edited_waits_again(new_client, session):
    teacher, maya, mother = _family(session)
    student, staff, family = _clients(new_client, teacher, maya, mother)
    reflection = make_reflection(session, maya, title="My week", body="It was fine", audience=Audience.family)
    _approve(staff, _approval(session, ItemType.reflection, reflection.id))
    assert family.get(f"/reflections/{reflection.id}").status_code == 200

    edited = post_multipart(student, f"/reflections/{reflection.id}/edit", {
        "title": "My week", "body": "It was brilliant", "audience": "family", "action": "publish",
        "version": str(reflection.version)})
    assert edited.status_code == 303, edited.text
    assert _approval(session, ItemType.reflection, reflection.id).status is ApprovalStatus.pending
    assert family.get(f"/reflections/{reflection.id}").status_code == 404
    inbox = _inbox_section(staff)
    assert "It was fine" in inbox and "It was brilliant" in inbox


def test_a_teacher_approves_only_the_version_they_saw(new_client, session):
    teacher, maya, mother = _family(session)
    student, staff, family = _clients(new_client, teacher, maya, mother)
    note = make_note(session, maya, title="Poem", body="First words", audience=Audience.family)
    approval = _approval(session, ItemType.artefact, note.id)
    inbox = staff.get("/inbox").text
    seen = inbox.split(f'name="seen" value="{approval.id}:', 1)[1].split('"', 1)[0]

    student.post(f"/artefacts/{note.id}/edit", data={"title": "Poem", "body": "Different words", "audience": "family"})
    stale = staff.post(f"/approvals/{approval.id}/approve", data={"seen": f"{approval.id}:{seen}"})
    assert stale.status_code == 303
    assert _approval(session, ItemType.artefact, note.id).status is ApprovalStatus.pending
    assert "changed since you opened" in unescape(staff.get("/inbox").text)
    bulk = staff.post("/approvals/approve", data={"approval_ids": [approval.id], "seen": [f"{approval.id}:{seen}"]})
    assert bulk.status_code == 303
    assert _approval(session, ItemType.artefact, note.id).status is ApprovalStatus.pending
    assert family.get(f"/artefacts/{note.id}").status_code == 404

    fresh = staff.get("/inbox").text.split(f'name="seen" value="{approval.id}:', 1)[1].split('"', 1)[0]
    assert fresh != seen
    assert staff.post(f"/approvals/{approval.id}/approve", data={"seen": f"{approval.id}:{fresh}"}).status_code == 303
    approved = _approval(session, ItemType.artefact, note.id)
    assert approved.status is ApprovalStatus.approved and approved.approved_text["body"] == "Different words"
    assert family.get(f"/artefacts/{note.id}").status_code == 200


def test_deleting_an_item_drops_its_approval(client, session):
    _teacher, maya, _mother = _family(session)
    note = make_note(session, maya, audience=Audience.family)
    assert _approval(session, ItemType.artefact, note.id) is not None
    login(client, maya)
    assert client.post(f"/artefacts/{note.id}/delete").status_code == 303
    assert _approval(session, ItemType.artefact, note.id) is None


# --- showcases -----------------------------------------------------------------------------------


def _new_showcase(student, session, maya, *, title="My term", audience="family") -> Showcase:
    response = student.post("/showcases/new", data={"title": title, "introduction": "Hello family", "audience": audience})
    assert response.status_code == 303, response.text
    session.expire_all()
    return session.exec(select(Showcase).where(Showcase.owner_id == maya.id, Showcase.title == title)).one()


def test_a_new_family_showcase_stays_hidden_from_guardians_until_approved(new_client, session):
    teacher, maya, mother = _family(session)
    student, staff, family = _clients(new_client, teacher, maya, mother)
    showcase = _new_showcase(student, session, maya)

    approval = _approval(session, showcase_id=showcase.id)
    assert approval is not None and approval.status is ApprovalStatus.pending
    for url in (f"/showcases/{showcase.id}", f"/showcases/{showcase.id}/respond", f"/showcases/{showcase.id}/responses"):
        assert family.get(url).status_code == 404, url
    assert "My term" not in unescape(family.get(f"/family/children/{maya.id}").text)
    assert "Waiting for a teacher’s approval" in student.get(f"/showcases/{showcase.id}").text
    waiting = session.exec(select(Notification).where(Notification.user_id == teacher.id,
                                                      Notification.kind == NotificationKind.item_waiting)).all()
    assert len(waiting) == 1
    inbox = _inbox_section(staff)
    assert "My term" in inbox and f'href="/showcases/{showcase.id}"' in inbox and "Hello family" in inbox

    _approve(staff, approval)
    assert family.get(f"/showcases/{showcase.id}").status_code == 200
    assert family.get(f"/showcases/{showcase.id}/respond").status_code == 200
    assert f'href="/showcases/{showcase.id}"' in family.get(f"/family/children/{maya.id}").text

    # A new introduction: back to the teacher, hidden from the family meanwhile.
    edited = student.post(f"/showcases/{showcase.id}/edit", data={
        "title": "My term", "introduction": "Hello everyone", "audience": "family", "version": str(showcase.version)})
    assert edited.status_code == 303, edited.text
    assert _approval(session, showcase_id=showcase.id).status is ApprovalStatus.pending
    assert family.get(f"/showcases/{showcase.id}").status_code == 404
    assert f'href="/showcases/{showcase.id}"' not in family.get(f"/family/children/{maya.id}").text
    inbox = _inbox_section(staff)
    assert "Hello family" in inbox and "Hello everyone" in inbox
    _approve(staff, _approval(session, showcase_id=showcase.id))
    assert "Hello everyone" in family.get(f"/showcases/{showcase.id}").text


def test_showcases_for_the_class_or_without_the_setting_need_no_approval(new_client, session):
    teacher, maya, mother = _family(session, approval=False)
    student, _staff, family = _clients(new_client, teacher, maya, mother)
    showcase = _new_showcase(student, session, maya)
    assert _approval(session, showcase_id=showcase.id) is None
    assert family.get(f"/showcases/{showcase.id}").status_code == 200

    teacher2, maya2, _mother2 = _family(session)
    other = new_client()
    login(other, maya2)
    for_class = _new_showcase(other, session, maya2, title="For class", audience="class")
    assert _approval(session, showcase_id=for_class.id) is None


def test_turning_approval_on_queues_family_showcases_and_off_clears_them(client, new_client, session):
    teacher, maya, mother = _family(session, approval=False)
    student, _staff, family = _clients(new_client, teacher, maya, mother)
    showcase = _new_showcase(student, session, maya)
    from app.models import SchoolClass

    school_class = session.exec(select(SchoolClass)).first()
    login(client, teacher)
    client.post(f"/classes/{school_class.id}/settings", data={"family_items_need_approval": "true"})
    assert _approval(session, showcase_id=showcase.id).status is ApprovalStatus.pending
    assert family.get(f"/showcases/{showcase.id}").status_code == 404
    assert "My term" in _inbox_section(client)
    client.post(f"/classes/{school_class.id}/settings", data={})
    assert _approval(session, showcase_id=showcase.id) is None
    assert family.get(f"/showcases/{showcase.id}").status_code == 200


def test_deleting_a_showcase_drops_its_approval(new_client, session):
    teacher, maya, mother = _family(session)
    student, _staff, _family_client = _clients(new_client, teacher, maya, mother)
    showcase = _new_showcase(student, session, maya)
    assert _approval(session, showcase_id=showcase.id) is not None
    assert student.post(f"/showcases/{showcase.id}/delete").status_code == 303
    session.expire_all()
    assert session.exec(select(ItemApproval)).all() == []


def test_words_changed_while_approval_was_off_wait_when_it_is_turned_on_again(client, new_client, session):
    teacher, maya, mother = _family(session)
    student, staff, family = _clients(new_client, teacher, maya, mother)
    note = make_note(session, maya, title="Poem", body="Approved words", audience=Audience.family)
    _approve(staff, _approval(session, ItemType.artefact, note.id))
    from app.models import SchoolClass

    school_class = session.exec(select(SchoolClass)).first()
    assert staff.post(f"/classes/{school_class.id}/settings", data={}).status_code == 303  # approval off
    student.post(f"/artefacts/{note.id}/edit", data={"title": "Poem", "body": "Words nobody approved", "audience": "family"})
    assert family.get(f"/artefacts/{note.id}").status_code == 200  # no class asks for approval now

    staff.post(f"/classes/{school_class.id}/settings", data={"family_items_need_approval": "true"})
    assert _approval(session, ItemType.artefact, note.id).status is ApprovalStatus.pending
    assert family.get(f"/artefacts/{note.id}").status_code == 404


def test_the_inbox_with_changes_of_every_kind_runs_a_constant_number_of_queries(new_client, session, count_queries):
    teacher, maya, mother = _family(session)
    student, staff, family = _clients(new_client, teacher, maya, mother)

    def add_changed_items(n: int) -> None:
        for i in range(n):
            goal = _approved_goal(session, student, staff, family, maya, title=f"Goal {n}-{i}")
            student.post(f"/goals/{goal.id}/steps", data={"text": "One more step"})
            note = make_note(session, maya, title=f"Note {n}-{i}", audience=Audience.family)
            _approve(staff, _approval(session, ItemType.artefact, note.id))
            student.post(f"/artefacts/{note.id}/edit", data={"title": "Changed", "body": "New", "audience": "family"})
            make_reflection(session, maya, title=f"Reflection {n}-{i}", audience=Audience.family)
            _new_showcase(student, session, maya, title=f"Showcase {n}-{i}")

    def queries() -> int:
        with count_queries() as counter:
            page = staff.get("/inbox")
        assert page.status_code == 200
        return counter.count

    add_changed_items(1)
    few = queries()
    add_changed_items(3)
    assert "Changed since you approved it" in staff.get("/inbox").text
    assert queries() == few

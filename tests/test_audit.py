"""The audit log: each security-relevant action leaves one record, written with the change; admins read and filter
it; students read who was given access to their work; nothing can change or delete a record."""

from __future__ import annotations

import inspect
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.models import (
    ApprovalStatus, AuditEvent, AuditEventKind, ItemApproval, ItemType, Notification, NotificationKind, Role, User,
)
from app.models.base import utcnow
from app.services.accounts import audit
from tests.factories import link_guardian, login, make_class, make_school, make_user
from tests.test_imports import LEAP2A

CODE = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")
# Each kind is checked by the test named beside it: a new kind needs a test here.
TESTED_KINDS = {
    AuditEventKind.sign_in: "test_signing_in_and_passwords",
    AuditEventKind.sign_in_failed: "test_signing_in_and_passwords",
    AuditEventKind.password_changed: "test_signing_in_and_passwords",
    AuditEventKind.password_reset: "test_signing_in_and_passwords",
    AuditEventKind.account_created: "test_classes_and_enrolments",
    AuditEventKind.enrolled: "test_classes_and_enrolments",
    AuditEventKind.unenrolled: "test_classes_and_enrolments",
    AuditEventKind.invitation_created: "test_family_invitations_and_links",
    AuditEventKind.invitation_revoked: "test_family_invitations_and_links",
    AuditEventKind.guardian_linked: "test_family_invitations_and_links",
    AuditEventKind.guardian_unlinked: "test_family_invitations_and_links",
    AuditEventKind.export_requested: "test_exports_and_imports",
    AuditEventKind.import_requested: "test_exports_and_imports",
    AuditEventKind.share_link_created: "test_secret_links",
    AuditEventKind.share_link_revoked: "test_secret_links",
    AuditEventKind.item_approved: "test_approvals",
    AuditEventKind.item_returned: "test_approvals",
    AuditEventKind.account_updated: "test_people_and_terms",
    AuditEventKind.account_deactivated: "test_people_and_terms",
    AuditEventKind.account_reactivated: "test_people_and_terms",
    AuditEventKind.account_deleted: "test_people_and_terms",
    AuditEventKind.setup_link_created: "test_people_and_terms",
    AuditEventKind.setup_link_used: "test_people_and_terms",
    AuditEventKind.term_created: "test_people_and_terms",
    AuditEventKind.class_created: "test_people_and_terms",
    AuditEventKind.classes_rolled_over: "test_people_and_terms",
    AuditEventKind.credential_issued: "test_credentials",
    AuditEventKind.credential_revoked: "test_credentials",
}


def _events(session, kind: AuditEventKind | None = None) -> list[AuditEvent]:
    session.expire_all()
    statement = select(AuditEvent).order_by(AuditEvent.id)
    if kind is not None:
        statement = statement.where(AuditEvent.event == kind)
    return list(session.exec(statement).all())


def _only(session, kind: AuditEventKind) -> AuditEvent:
    [event] = _events(session, kind)
    return event


def test_every_kind_of_event_has_a_test():
    assert set(TESTED_KINDS) == set(AuditEventKind)
    assert set(TESTED_KINDS.values()) <= set(globals())


# --- each kind, recorded by its HTTP action ----------------------------------------------------------


def test_signing_in_and_passwords(client, new_client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    maya = make_user(session, school, display_name="Maya")
    make_class(session, school, teachers=[teacher], students=[maya])

    assert client.post("/login", data={"identifier": maya.username, "password": "not-her-password"}).status_code == 401
    failed = _only(session, AuditEventKind.sign_in_failed)
    assert (failed.actor_id, failed.subject_id, failed.school_id) == (None, maya.id, school.id)
    assert failed.ip_address == "testclient" and failed.details["reason"] == "password"
    client.post("/login", data={"identifier": "nobody-at-all", "password": "whatever-1"})
    assert len(_events(session, AuditEventKind.sign_in_failed)) == 1  # a name that is no account has no school

    login(client, maya)
    signed_in = _only(session, AuditEventKind.sign_in)
    assert (signed_in.actor_id, signed_in.actor_name, signed_in.subject_id) == (maya.id, "Maya", maya.id)

    client.post("/account/password", data={"current_password": "wrong", "new_password": "a-new-sentence",
                                           "confirm_password": "a-new-sentence"})
    assert _events(session, AuditEventKind.password_changed) == []  # refused: nothing changed, nothing recorded
    client.post("/account/password", data={"current_password": "correct-horse-battery",
                                           "new_password": "a-new-sentence", "confirm_password": "a-new-sentence"})
    assert _only(session, AuditEventKind.password_changed).subject_id == maya.id

    staff = new_client()
    login(staff, teacher)
    assert staff.post(f"/people/{maya.id}/password", data={"new_password": "temp-pass-42", "must_change": "true"}
                      ).status_code == 200
    reset = _only(session, AuditEventKind.password_reset)
    assert (reset.actor_id, reset.subject_id, reset.details["must_change"]) == (teacher.id, maya.id, True)


def test_people_and_terms(client, new_client, session, settings):
    school = make_school(session)
    admin = make_user(session, school, Role.admin, display_name="Alex Morgan")
    login(client, admin)
    response = client.post("/admin/people/new", data={"display_name": "Rae", "username": "rae", "role": "teacher",
                                                      "start_with": "link"})
    link = re.search(r"(/setup/[A-Za-z0-9_-]+)</code>", response.text).group(1)
    rae = session.exec(select(User).where(User.username == "rae")).one()
    made = _only(session, AuditEventKind.setup_link_created)
    assert (made.actor_id, made.subject_id) == (admin.id, rae.id) and link.rsplit("/", 1)[1] not in str(made.details)
    new_client().post(link, data={"password": "rae's own password", "confirm": "rae's own password"})
    assert (_only(session, AuditEventKind.setup_link_used).actor_id, _only(session, AuditEventKind.setup_link_used)
            .subject_id) == (rae.id, rae.id)
    client.post(f"/admin/people/{rae.id}", data={"display_name": "Rae Lee", "username": "rae", "role": "teacher"})
    edited = _only(session, AuditEventKind.account_updated)
    assert edited.details["changed"] == ["display_name"] and edited.details["subject_name"] == "Rae Lee"

    client.post("/admin/terms", data={"school_year": "2026–27"})
    client.post("/admin/terms", data={"school_year": "2027–28"})
    first, second = (e.details["term_id"] for e in _events(session, AuditEventKind.term_created))
    client.post("/classes/new", data={"name": "Cedar", "term_id": str(first), "teacher_id": str(rae.id)})
    class_made = _only(session, AuditEventKind.class_created)
    assert class_made.object_description == "Cedar" and class_made.details["term_id"] == first
    client.post(f"/admin/terms/{first}/rollover", data={"target_term_id": str(second), "class_ids": [
        str(class_made.details["class_id"])], "names": ["Cedar 2"], "carry": [str(class_made.details["class_id"])]})
    rolled = _only(session, AuditEventKind.classes_rolled_over)
    assert rolled.details["from_term_id"] == first and rolled.details["archived"] == [class_made.details["class_id"]]

    leaver = make_user(session, school, display_name="Lou Leaver")
    leaver_id, leaver_name = leaver.id, leaver.username
    client.post(f"/admin/people/{leaver_id}/deactivate")
    client.post(f"/admin/people/{leaver_id}/reactivate")
    client.post(f"/admin/people/{leaver_id}/deactivate")
    assert len(_events(session, AuditEventKind.account_deactivated)) == 2
    assert _only(session, AuditEventKind.account_reactivated).subject_id == leaver_id
    session.execute(sa.update(User).where(User.id == leaver_id).values(
        deactivated_at=utcnow() - timedelta(days=settings.retention_days + 1)))
    session.commit()
    client.post(f"/admin/people/{leaver_id}/delete", data={"confirm_username": leaver_name})
    deleted = _only(session, AuditEventKind.account_deleted)
    assert (deleted.actor_id, deleted.subject_id, deleted.object_description) == (admin.id, None, "Lou Leaver")
    # Earlier events about the deleted account stay, with the account's id cleared and its name as it was.
    switched = _events(session, AuditEventKind.account_deactivated)
    assert [e.subject_id for e in switched] == [None, None] and switched[0].details["subject_name"] == "Lou Leaver"
    page = client.get("/admin/audit").text
    for label in ("Account edited", "Account switched off", "Account switched on", "Account deleted", "Setup link made",
                  "Password chosen with a setup link", "Term added", "Class created", "Classes rolled over"):
        assert label in page


def test_classes_and_enrolments(client, new_client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    admin = make_user(session, school, Role.admin, display_name="Alex Morgan")
    noah = make_user(session, school, username="noah", display_name="Noah")
    login(client, teacher)
    client.post("/classes/new", data={"name": "Grade 7 Cedar", "year": "2026–27"})
    [creator] = _events(session, AuditEventKind.enrolled)
    assert (creator.subject_id, creator.details["role"], creator.details["via"]) == (teacher.id, "teacher", "class_creator")
    class_id = creator.details["class_id"]

    client.post(f"/classes/{class_id}/students", data={"display_name": "Amara", "username": "amara"})
    client.post(f"/classes/{class_id}/students/bulk", data={"lines": "Jonah,jonah\nAisha,aisha\n"})
    created = _events(session, AuditEventKind.account_created)
    assert [e.details["subject_name"] for e in created] == ["Amara", "Jonah", "Aisha"]
    assert {e.actor_id for e in created} == {teacher.id}
    vias = {e.details["subject_name"]: e.details["via"] for e in _events(session, AuditEventKind.enrolled)[1:]}
    assert vias == {"Amara": "teacher_created", "Jonah": "roster", "Aisha": "roster"}

    refused = client.post(f"/classes/{class_id}/students", data={"username": "noah"})
    assert refused.status_code == 422 and len(_events(session, AuditEventKind.enrolled)) == 4

    office = new_client()
    login(office, admin)
    office.post(f"/classes/{class_id}/students", data={"username": "noah"})
    by_admin = _events(session, AuditEventKind.enrolled)[-1]
    assert (by_admin.actor_id, by_admin.subject_id, by_admin.details["via"]) == (admin.id, noah.id, "admin")
    assert by_admin.details["teachers"] == ["Ms Rivera"] and by_admin.object_description == "Grade 7 Cedar"

    assert client.post(f"/classes/{class_id}/students/{noah.id}/remove").status_code == 303
    removed = _only(session, AuditEventKind.unenrolled)
    assert (removed.actor_id, removed.subject_id, removed.details["via"]) == (teacher.id, noah.id, "admin")

    student = new_client()
    login(student, noah)
    code = session.exec(sa.text("SELECT join_code FROM classes WHERE id = :id"), params={"id": class_id}).one()[0]
    student.post("/classes/join", data={"code": code})
    joined = _events(session, AuditEventKind.enrolled)[-1]
    assert (joined.actor_id, joined.subject_id, joined.details["via"]) == (noah.id, noah.id, "join_code")


def test_family_invitations_and_links(client, new_client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    admin = make_user(session, school, Role.admin)
    maya = make_user(session, school, display_name="Maya")
    make_class(session, school, teachers=[teacher], students=[maya])
    login(client, teacher)
    first = CODE.search(client.post(f"/students/{maya.id}/invitations").text).group(0)
    CODE.search(client.post(f"/students/{maya.id}/invitations").text)
    made = _events(session, AuditEventKind.invitation_created)
    assert len(made) == 2 and {e.subject_id for e in made} == {maya.id}
    second_id = made[1].details["invitation_id"]
    client.post(f"/students/{maya.id}/invitations/{second_id}/revoke")
    client.post(f"/students/{maya.id}/invitations/{second_id}/revoke")  # twice: one record
    assert _only(session, AuditEventKind.invitation_revoked).details["invitation_id"] == second_id

    family = new_client()
    family.post("/invite", data={"code": first, "action": "create", "display_name": "Li Chen", "username": "lichen",
                                 "email": "", "password": "a-long-password", "confirm": "a-long-password"})
    mother = session.exec(select(User).where(User.username == "lichen")).one()
    assert _only(session, AuditEventKind.account_created).subject_id == mother.id
    linked = _only(session, AuditEventKind.guardian_linked)
    assert (linked.actor_id, linked.subject_id, linked.details["guardian_name"]) == (mother.id, maya.id, "Li Chen")

    office = new_client()
    login(office, admin)
    office.post(f"/students/{maya.id}/guardians/{mother.id}/remove")
    unlinked = _only(session, AuditEventKind.guardian_unlinked)
    assert (unlinked.actor_id, unlinked.subject_id, unlinked.details["guardian_id"]) == (admin.id, maya.id, mother.id)

    # The student ends a link herself.
    father = make_user(session, school, Role.guardian, display_name="Wei Chen")
    link_guardian(session, father, maya)
    own = new_client()
    login(own, maya)
    assert own.post(f"/my-family/{father.id}/remove").status_code == 303
    by_student = _events(session, AuditEventKind.guardian_unlinked)[-1]
    assert (by_student.actor_id, by_student.subject_id, by_student.object_description) == (maya.id, maya.id, "Wei Chen")


def test_exports_and_imports(client, new_client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    admin = make_user(session, school, Role.admin)
    maya = make_user(session, school)
    school_class = make_class(session, school, teachers=[teacher], students=[maya], name="Grade 5 Maple")
    login(client, maya)
    assert client.post("/exports/pdf", data={"sections": ["goals", "evidence"]}).status_code == 303
    assert client.post("/exports/archive").status_code == 303
    assert client.post("/import", files={"archive": ("leap2a.xml", LEAP2A, "text/xml")}).status_code == 303
    staff = new_client()
    login(staff, teacher)
    assert staff.post(f"/classes/{school_class.id}/export", data={"sections": ["goals"]}).status_code == 303
    office = new_client()
    login(office, admin)
    # Another file: the same one, while Maya's import of it is under way, would be refused as a duplicate.
    other_file = LEAP2A + b"\n"
    assert office.post(f"/people/{maya.id}/import", files={"archive": ("leap2a.xml", other_file, "text/xml")}).status_code == 303

    exports = _events(session, AuditEventKind.export_requested)
    assert [(e.actor_id, e.subject_id, e.details["kind"]) for e in exports] == [
        (maya.id, maya.id, "portfolio_pdf"), (maya.id, maya.id, "archive"), (teacher.id, None, "class_pdfs")]
    assert exports[2].object_description == "Grade 5 Maple" and exports[2].school_id == school.id
    imports = _events(session, AuditEventKind.import_requested)
    assert [(e.actor_id, e.subject_id, e.object_description) for e in imports] == [
        (maya.id, maya.id, "leap2a.xml"), (admin.id, maya.id, "leap2a.xml")]
    assert "upload" not in imports[0].details  # the stored file's name is of no use in the log


def test_secret_links(client, session):
    school = make_school(session)
    maya = make_user(session, school)
    make_class(session, school, students=[maya])
    login(client, maya)
    created = client.post("/showcases/new", data={"title": "Spring", "audience": "private", "introduction": ""})
    showcase_id = int(re.fullmatch(r"/showcases/(\d+)/items/new", created.headers["location"]).group(1))
    expires = (utcnow() + timedelta(days=3)).date().isoformat()
    assert client.post(f"/showcases/{showcase_id}/links", data={"expires_on": expires}).status_code == 200
    made = _only(session, AuditEventKind.share_link_created)
    # The log names what was shared, never the student's own words (admins read it).
    assert (made.actor_id, made.object_description, made.details["showcase_id"]) == (
        maya.id, f"showcase {showcase_id}", showcase_id)
    assert client.post(f"/showcases/{showcase_id}/links/{made.details['link_id']}/revoke").status_code == 303
    assert _only(session, AuditEventKind.share_link_revoked).details["link_id"] == made.details["link_id"]


def test_approvals(client, new_client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    maya = make_user(session, school, display_name="Maya")
    school_class = make_class(session, school, teachers=[teacher], students=[maya])
    school_class.family_items_need_approval = True
    session.add(school_class)
    session.commit()
    login(client, maya)
    for title in ("Volcano", "Poem"):
        assert client.post("/artefacts/note", data={"title": title, "body": "words", "audience": "family"}).status_code == 303
    approvals = session.exec(select(ItemApproval).order_by(ItemApproval.id)).all()
    assert len(approvals) == 2
    staff = new_client()
    login(staff, teacher)
    assert staff.post(f"/approvals/{approvals[0].id}/approve").status_code == 303
    assert staff.post(f"/approvals/{approvals[1].id}/return", data={"note": "Check the spelling"}).status_code == 303
    approved, returned = _only(session, AuditEventKind.item_approved), _only(session, AuditEventKind.item_returned)
    assert (approved.actor_id, approved.subject_id, approved.object_description) == (
        teacher.id, maya.id, f"artefact {approvals[0].item_id}")  # not the title: the student's words stay theirs
    assert (returned.subject_id, returned.details["item_type"], returned.details["item_id"]) == (
        maya.id, ItemType.artefact.value, approvals[1].item_id)
    session.expire_all()
    assert session.get(ItemApproval, approvals[1].id).status is ApprovalStatus.returned


def test_credentials(client, session):
    from tests.test_badges import award_one, build_world
    w = build_world(session)
    credential = award_one(client, session, w)
    assert client.post(f"/credentials/{credential.public_id}/revoke", data={"reason": "Wrong student"}).status_code == 303
    issued, revoked = _only(session, AuditEventKind.credential_issued), _only(session, AuditEventKind.credential_revoked)
    assert (issued.actor_id, issued.subject_id, issued.object_description) == (
        w["shah"].id, w["maya"].id, f"credential {credential.public_id}")
    assert issued.details["achievement"] == "COM.1 Communicating: Proficient"
    assert (revoked.actor_id, revoked.subject_id, revoked.details["reason"]) == (w["shah"].id, w["maya"].id, "Wrong student")


# --- who reads it --------------------------------------------------------------------------------------


def _logged(session, school, *, actor=None, subject=None, kind=AuditEventKind.sign_in, at=None, description=""):
    event = audit.record(session=session, event=kind, actor=actor, subject=subject, school_id=school.id,
                         object_description=description, address="192.0.2.7")
    if at is not None:
        event.at = at
    session.commit()
    return event


def test_the_admin_reads_their_schools_log_newest_first_with_filters(client, session):
    school, other = make_school(session), make_school(session)
    admin = make_user(session, school, Role.admin)
    maya = make_user(session, school, username="maya", display_name="Maya Chen")
    noah = make_user(session, school, username="noah", display_name="Noah Park")
    stranger = make_user(session, other, display_name="Someone Elsewhere")
    now = utcnow()
    _logged(session, school, actor=maya, subject=maya, at=now - timedelta(days=40))
    _logged(session, school, actor=admin, subject=noah, kind=AuditEventKind.password_reset, at=now - timedelta(days=2))
    _logged(session, school, actor=noah, subject=noah, at=now - timedelta(hours=1))
    _logged(session, other, actor=stranger, subject=stranger)
    login(client, admin)  # a sign-in of its own, now

    page = client.get("/admin/audit").text
    assert "Someone Elsewhere" not in page
    assert page.count("<tr>") == 1 + 4  # header + this school's four events
    assert page.index("Noah Park") < page.index("Maya Chen")  # newest first
    assert "192.0.2.7" in page

    resets = client.get("/admin/audit", params={"event": "password_reset"}).text
    assert resets.count("<tr>") == 2 and "Password reset" in resets
    about_maya = client.get("/admin/audit", params={"person": "MAYA"}).text
    assert about_maya.count("<tr>") == 2 and "Maya Chen" in about_maya and "Noah Park" not in about_maya
    since = (now - timedelta(days=3)).date().isoformat()
    until = (now - timedelta(days=1)).date().isoformat()
    window = client.get("/admin/audit", params={"since": since, "until": until}).text
    assert window.count("<tr>") == 2 and "Password reset" in window

    bad = client.get("/admin/audit", params={"person": "nobody", "since": "30/09/2026", "event": "nope"})
    assert bad.status_code == 422
    assert "Nobody at your school has the username or email" in bad.text
    assert "Write the date as year-month-day" in bad.text and 'aria-invalid="true"' in bad.text
    # Someone of another school can't be found by name either.
    assert "Nobody at your school" in client.get("/admin/audit", params={"person": stranger.username}).text


def test_the_admin_log_is_paginated_in_a_constant_number_of_queries(client, session, count_queries):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    login(client, admin)
    counts = []
    for total in (5, 120):
        while len(_events(session)) < total:
            _logged(session, school, actor=admin, subject=admin, kind=AuditEventKind.password_changed)
        with count_queries() as counter:
            response = client.get("/admin/audit", params={"person": admin.username, "event": "password_changed"})
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]
    assert 'rel="next"' in response.text
    last = client.get("/admin/audit", params={"page": 3}).text
    assert "Page 3 of 3" in last and 'rel="next"' not in last


@pytest.mark.parametrize("role", [Role.student, Role.teacher, Role.guardian])
def test_only_admins_reach_the_audit_log(client, session, role):
    login(client, make_user(session, make_school(session), role))
    assert client.get("/admin/audit").status_code == 403
    assert 'href="/admin/audit"' not in client.get("/account").text


def test_a_student_sees_who_was_given_access_to_their_work_and_only_their_own(client, new_client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    admin = make_user(session, school, Role.admin, display_name="Alex Morgan")
    maya = make_user(session, school, username="maya", display_name="Maya")
    noah = make_user(session, school, username="noah", display_name="Noah")
    school_class = make_class(session, school, teachers=[teacher], name="Grade 7 Cedar")
    office = new_client()
    login(office, admin)
    office.post(f"/classes/{school_class.id}/students", data={"username": "maya"})
    office.post(f"/classes/{school_class.id}/students", data={"username": "noah"})
    office.post(f"/classes/{school_class.id}/students/{noah.id}/remove")

    login(client, maya)
    mine = client.get("/account").text
    assert "Alex Morgan added you to Grade 7 Cedar. Its teachers (Ms Rivera) can see your work, except drafts." in mine
    assert "Noah" not in mine and "took you out" not in mine
    theirs = new_client()
    login(theirs, noah)
    page = theirs.get("/account").text
    assert "Alex Morgan took you out of Grade 7 Cedar." in page and "Maya" not in page
    assert "Signed in" not in page  # only what gave or took access
    staff = new_client()
    login(staff, teacher)
    assert 'id="access"' not in staff.get("/account").text  # a student's page only


def test_added_students_and_their_teachers_are_told(client, new_client, session):
    school = make_school(session)
    priya = make_user(session, school, Role.teacher, display_name="Priya Shah")
    teacher2 = make_user(session, school, Role.teacher, display_name="Sam Lee")
    admin = make_user(session, school, Role.admin, display_name="Alex Morgan")
    maya = make_user(session, school, username="maya", display_name="Maya Chen")
    make_class(session, school, teachers=[priya], students=[maya], name="Grade 5 Maple")
    grade7 = make_class(session, school, teachers=[teacher2], name="Grade 7 Cedar")
    login(client, admin)
    client.post(f"/classes/{grade7.id}/students", data={"username": "maya"})

    def told(user) -> list[Notification]:
        session.expire_all()
        return list(session.exec(select(Notification).where(Notification.user_id == user.id)).all())

    [to_maya] = told(maya)
    assert to_maya.kind is NotificationKind.added_to_class and to_maya.link == "/account#access"
    assert [n.kind for n in told(priya)] == [NotificationKind.student_added]
    assert [n.kind for n in told(teacher2)] == [NotificationKind.student_added]
    assert told(admin) == []
    student = new_client()
    login(student, maya)
    assert "Alex Morgan added you to Grade 7 Cedar" in student.get("/notifications").text
    staff = new_client()
    login(staff, priya)
    assert "Alex Morgan added Maya Chen to Grade 7 Cedar." in staff.get("/notifications").text

    # Joining with the code: the student did it, so only the teachers hear of it.
    third = make_class(session, school, teachers=[teacher2], name="Band")
    student.post("/classes/join", data={"code": third.join_code})
    assert [n.kind for n in told(maya)] == [NotificationKind.added_to_class]
    assert NotificationKind.student_joined in {n.kind for n in told(priya)}
    assert "Maya Chen joined Band with its class code." in staff.get("/notifications").text


# --- append-only -----------------------------------------------------------------------------------------


def test_the_audit_service_offers_no_way_to_change_or_delete():
    functions = {name for name, value in vars(audit).items() if inspect.isfunction(value) and value.__module__ == audit.__name__}
    assert functions == {"record"}
    source = inspect.getsource(audit)
    assert "delete(" not in source and "update(" not in source


def test_the_database_refuses_to_change_or_delete_a_record_but_lets_an_account_go(session):
    school = make_school(session)
    actor, subject = make_user(session, school, Role.admin), make_user(session, school)
    event = _logged(session, school, actor=actor, subject=subject, kind=AuditEventKind.password_reset,
                    description="before")
    for statement in (sa.update(AuditEvent).where(AuditEvent.id == event.id).values(object_description="after"),
                      sa.update(AuditEvent).where(AuditEvent.id == event.id).values(actor_id=subject.id),
                      sa.delete(AuditEvent).where(AuditEvent.id == event.id)):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            session.exec(statement)
        session.rollback()
    # Deleting an account clears its id (ON DELETE SET NULL); the names stay as they were.
    session.exec(sa.delete(User).where(User.id == actor.id))
    session.commit()
    session.expire_all()
    kept = session.get(AuditEvent, event.id)
    assert (kept.actor_id, kept.actor_name, kept.object_description) == (None, actor.display_name, "before")

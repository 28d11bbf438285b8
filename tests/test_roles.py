"""Role guards and the reach of each role: own pages only, own school only, own classes only."""

import pytest

from app.models import Role
from tests.factories import link_guardian, login, make_class, make_school, make_user

HOMES = {Role.student: "/student", Role.teacher: "/teacher", Role.guardian: "/family", Role.admin: "/admin"}
ROLE_PAGES = {**{role: [home] for role, home in HOMES.items()}, Role.admin: ["/admin", "/admin/people"]}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_is_kept_out_of_the_other_roles_pages(client, session, role):
    user = make_user(session, make_school(session), role)
    login(client, user)
    assert client.get(HOMES[role]).status_code == 200
    assert client.get("/home").headers["location"] == HOMES[role]
    for other, pages in ROLE_PAGES.items():
        if other is role:
            continue
        for page in pages:
            response = client.get(page)
            assert response.status_code == 403, (role, page)
            assert "This page isn&#39;t for your account" in response.text


def test_student_cannot_reset_anyones_password(client, session):
    school = make_school(session)
    student = make_user(session, school)
    classmate = make_user(session, school)
    make_class(session, school, students=[student, classmate])
    login(client, student)
    assert client.get(f"/people/{classmate.id}/password").status_code == 403
    assert client.post(f"/people/{classmate.id}/password", data={"new_password": "hijacked-1"}).status_code == 403
    client.post("/logout")
    login(client, classmate)


def test_teacher_reaches_only_their_own_classes_students(client, session):
    school = make_school(session)
    teacher, other_teacher = make_user(session, school, Role.teacher), make_user(session, school, Role.teacher)
    mine, theirs = make_user(session, school), make_user(session, school)
    make_class(session, school, teachers=[teacher], students=[mine])
    make_class(session, school, teachers=[other_teacher], students=[theirs])
    login(client, teacher)
    home = client.get("/teacher").text
    assert mine.display_name in home and theirs.display_name not in home
    assert client.get(f"/people/{mine.id}/password").status_code == 200
    for target in (theirs, other_teacher):
        assert client.get(f"/people/{target.id}/password").status_code == 404
        assert client.post(f"/people/{target.id}/password", data={"new_password": "hijacked-1"}).status_code == 404
    assert client.get("/people/999999/password").status_code == 404



def test_a_teacher_whose_class_with_the_student_is_archived_no_longer_resets_their_password(client, session):
    """Archiving the class ends what its teacher may do for its students: they see nothing of them any more, so
    they must not be able to take over the account either."""
    from app.auth import verify_password
    from app.models import User

    school = make_school(session)
    teacher, student = make_user(session, school, Role.teacher), make_user(session, school)
    school_class = make_class(session, school, teachers=[teacher], students=[student])
    login(client, teacher)
    assert client.get(f"/people/{student.id}/password").status_code == 200
    school_class.archived = True
    session.add(school_class)
    session.commit()
    assert client.get(f"/people/{student.id}/password").status_code == 404
    assert client.post(f"/people/{student.id}/password", data={"new_password": "taken-over-123"}).status_code == 404
    session.expire_all()
    assert not verify_password(session.get(User, student.id).password_hash, "taken-over-123")

def test_admin_manages_only_their_own_school(client, session):
    riverside, hillside = make_school(session, "Riverside"), make_school(session, "Hillside")
    admin = make_user(session, riverside, Role.admin)
    ours = make_user(session, riverside, Role.teacher, display_name="Our Teacher")
    foreign = make_user(session, hillside, Role.student, display_name="Hillside Student")
    login(client, admin)
    people = client.get("/admin/people").text
    assert "Our Teacher" in people and "Hillside Student" not in people
    assert "Hillside" not in client.get("/admin").text
    assert client.get(f"/people/{ours.id}/password").status_code == 200
    assert client.get(f"/people/{foreign.id}/password").status_code == 404
    assert client.post(f"/people/{foreign.id}/password", data={"new_password": "hijacked-1"}).status_code == 404
    client.post("/logout")
    login(client, foreign)


def test_guardian_sees_only_their_own_children(client, session):
    school = make_school(session)
    guardian = make_user(session, school, Role.guardian)
    child = make_user(session, school, display_name="Own Child")
    stranger = make_user(session, school, display_name="Someone Else")
    make_class(session, school, students=[child, stranger], name="Maple")
    link_guardian(session, guardian, child)
    login(client, guardian)
    page = client.get("/family").text
    assert "Own Child" in page and "Maple" in page
    assert "Someone Else" not in page


def test_people_list_is_paginated_and_filterable(client, session):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    for n in range(30):
        make_user(session, school, Role.student, display_name=f"Pupil {n:02d}")
    login(client, admin)
    first = client.get("/admin/people?role=student")
    assert "30 people" in first.text and "Page 1 of 2" in first.text
    assert "Pupil 00" in first.text and "Pupil 29" not in first.text
    second = client.get("/admin/people?role=student&page=2")
    assert "Pupil 29" in second.text and "Pupil 00" not in second.text
    fragment = client.get("/admin/people?role=student", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="people">') and "<html" not in fragment.text
    assert "HX-Request" in fragment.headers["vary"]


def test_home_pages_query_count_does_not_grow_with_class_size(client, session, count_queries):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    admin = make_user(session, school, Role.admin)
    school_class = make_class(session, school, teachers=[teacher], students=[make_user(session, school) for _ in range(5)])
    counts = {}
    for size in (5, 40):
        extra = [make_user(session, school) for _ in range(size - len(school_class.enrollments) + 1)]
        make_class(session, school, teachers=[teacher], students=extra)
        for user in (teacher, admin):
            client.cookies.clear()
            login(client, user)
            with count_queries() as counter:
                assert client.get("/teacher" if user is teacher else "/admin").status_code == 200
            counts[(user.role, size)] = counter.count
    assert counts[(Role.teacher, 5)] == counts[(Role.teacher, 40)]
    assert counts[(Role.admin, 5)] == counts[(Role.admin, 40)]

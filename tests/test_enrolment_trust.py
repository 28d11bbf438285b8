"""Who may put an existing student in a class, and who may then reset their password.

The hole this closes: a teacher typed another teacher's student's username into "Add student", got them into
their own class, read their private work and reset their password."""

from sqlmodel import select

from app.auth import verify_password
from app.models import Enrollment, Role, User
from tests.factories import PASSWORD, login, make_class, make_note, make_school, make_user


def _riverside(session):
    """Maya (Grade 5, Priya's class) and teacher2's own Grade 7 class; Maya keeps a private note."""
    school = make_school(session)
    priya = make_user(session, school, Role.teacher, username="priya")
    teacher2 = make_user(session, school, Role.teacher, username="teacher2")
    maya = make_user(session, school, username="maya", display_name="Maya Chen")
    grade5 = make_class(session, school, teachers=[priya], students=[maya], name="Grade 5 Maple")
    grade7 = make_class(session, school, teachers=[teacher2], name="Grade 7 Cedar")
    note = make_note(session, maya, title="My private worries")
    return school, priya, teacher2, maya, grade5, grade7, note


def _enrolled(session, school_class, user) -> bool:
    session.expire_all()
    return session.exec(select(Enrollment.id).where(
        Enrollment.class_id == school_class.id, Enrollment.user_id == user.id)).first() is not None


def test_a_teacher_cannot_take_another_teachers_student_by_username(client, session):
    _school, _priya, teacher2, maya, _grade5, grade7, note = _riverside(session)
    login(client, teacher2)

    one = client.post(f"/classes/{grade7.id}/students", data={"username": "maya"})
    assert one.status_code == 422
    assert grade7.join_code in one.text  # the way on: the student joins with the class's code
    assert "Maya Chen" not in one.text  # and nothing about who that account belongs to
    many = client.post(f"/classes/{grade7.id}/students/bulk", data={"lines": "Maya Chen,maya\nNew Kid,newkid\n"})
    assert many.status_code == 422 and grade7.join_code in many.text
    assert not _enrolled(session, grade7, maya)
    assert session.exec(select(User).where(User.username == "newkid")).first() is None

    assert client.get(f"/artefacts/{note.id}").status_code == 404
    assert client.get(f"/students/{maya.id}").status_code == 404
    assert client.get(f"/people/{maya.id}/password").status_code == 404
    assert client.post(f"/people/{maya.id}/password", data={"new_password": "hijacked-42"}).status_code == 404
    session.expire_all()
    assert verify_password(session.get(User, maya.id).password_hash, PASSWORD)


def test_a_teacher_resets_the_password_of_a_student_they_created(client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    school_class = make_class(session, school, teachers=[teacher])
    login(client, teacher)
    assert client.post(f"/classes/{school_class.id}/students",
                       data={"display_name": "Noah", "username": "noah"}).status_code == 200
    assert client.post(f"/classes/{school_class.id}/students/bulk", data={"lines": "Amara,amara\n"}).status_code == 200
    for username in ("noah", "amara"):
        student = session.exec(select(User).where(User.username == username)).one()
        done = client.post(f"/people/{student.id}/password", data={"new_password": "temp-pass-42"})
        assert done.status_code == 200 and "temp-pass-42" in done.text


def test_an_admin_enrols_an_existing_student_and_resets_anyones_password(client, new_client, session):
    school, _priya, teacher2, maya, _grade5, grade7, note = _riverside(session)
    admin = make_user(session, school, Role.admin)
    login(client, admin)
    response = client.post(f"/classes/{grade7.id}/students", data={"username": "maya"})
    assert response.status_code == 200 and "Maya Chen" in response.text
    assert _enrolled(session, grade7, maya)
    assert client.post(f"/people/{maya.id}/password", data={"new_password": "temp-pass-42"}).status_code == 200
    assert client.post(f"/people/{teacher2.id}/password", data={"new_password": "temp-pass-43"}).status_code == 200

    # Placed by an admin, Maya is now teacher2's student like any other.
    teacher_browser = new_client()
    login(teacher_browser, teacher2, "temp-pass-43")
    assert teacher_browser.get(f"/people/{maya.id}/password").status_code == 200


def test_a_student_who_joins_with_the_code_can_be_helped_by_that_teacher(client, new_client, session):
    _school, _priya, teacher2, maya, _grade5, grade7, _note = _riverside(session)
    login(client, maya)
    assert client.post("/classes/join", data={"code": grade7.join_code}).status_code == 303
    teacher_browser = new_client()
    login(teacher_browser, teacher2)
    assert teacher_browser.get(f"/people/{maya.id}/password").status_code == 200


def test_no_teacher_resets_a_teacher_or_an_admin_even_in_a_shared_class(client, session):
    school = make_school(session)
    teacher, colleague = make_user(session, school, Role.teacher), make_user(session, school, Role.teacher)
    admin = make_user(session, school, Role.admin)
    make_class(session, school, teachers=[teacher, colleague, admin])
    login(client, teacher)
    for target in (colleague, admin):
        assert client.get(f"/people/{target.id}/password").status_code == 404
        assert client.post(f"/people/{target.id}/password", data={"new_password": "hijacked-42"}).status_code == 404


def test_a_teacher_of_an_archived_class_no_longer_resets_its_students(client, session):
    school = make_school(session)
    teacher, student = make_user(session, school, Role.teacher), make_user(session, school)
    old_class = make_class(session, school, teachers=[teacher], students=[student])
    old_class.archived = True
    session.add(old_class)
    session.commit()
    login(client, teacher)
    assert client.get(f"/people/{student.id}/password").status_code == 404
    assert client.post(f"/people/{student.id}/password", data={"new_password": "hijacked-42"}).status_code == 404


def test_an_enrolment_of_unknown_origin_gives_no_reset_but_an_admin_still_can(client, new_client, session):
    from app.models import EnrolledVia

    school = make_school(session)
    teacher, student = make_user(session, school, Role.teacher), make_user(session, school)
    make_class(session, school, teachers=[teacher], students=[student], via=EnrolledVia.legacy)
    login(client, teacher)
    assert client.get(f"/people/{student.id}/password").status_code == 404
    assert client.get(f"/students/{student.id}").status_code == 200  # still their teacher, for reading
    office = new_client()
    login(office, make_user(session, school, Role.admin))
    assert office.post(f"/people/{student.id}/password", data={"new_password": "temp-pass-42"}).status_code == 200

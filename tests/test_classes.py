"""Class settings: a teacher sets the reflection prompts their students see."""

from app.models import Role, SchoolClass
from tests.factories import login, make_class, make_school, make_user


def test_teacher_sets_prompts_that_their_students_then_see(client, session, new_client):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    student = make_user(session, school)
    school_class = make_class(session, school, teachers=[teacher], students=[student])
    login(client, teacher)
    assert f"/classes/{school_class.id}/prompts" in client.get("/teacher").text
    response = client.post(f"/classes/{school_class.id}/prompts", data={"prompts": "What surprised you?\n\n  Who helped   you?\n"})
    assert response.status_code == 303
    session.refresh(school_class)
    assert school_class.reflection_prompts == "What surprised you?\nWho helped you?"
    browser = new_client()
    login(browser, student)
    form = browser.get("/reflections/new?guided=1").text
    assert "What surprised you?" in form and "Who helped you?" in form and "What did I learn?" not in form
    client.post(f"/classes/{school_class.id}/prompts", data={"prompts": ""})
    session.refresh(school_class)
    assert school_class.reflection_prompts is None
    assert "What did I learn?" in browser.get("/reflections/new?guided=1").text


def test_too_many_prompts_are_refused_and_nothing_changes(client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    school_class = make_class(session, school, teachers=[teacher])
    login(client, teacher)
    response = client.post(f"/classes/{school_class.id}/prompts", data={"prompts": "\n".join(f"Q{n}?" for n in range(12))})
    assert response.status_code == 422 and "at most 8 prompts" in response.text
    session.refresh(school_class)
    assert school_class.reflection_prompts is None


def test_only_the_class_teacher_or_admin_may_change_prompts(client, session, new_client):
    school, other_school = make_school(session), make_school(session)
    teacher, other_teacher = make_user(session, school, Role.teacher), make_user(session, school, Role.teacher)
    school_class = make_class(session, school, teachers=[teacher])
    for outsider in (other_teacher, make_user(session, other_school, Role.admin)):
        browser = new_client()
        login(browser, outsider)
        assert browser.get(f"/classes/{school_class.id}/prompts").status_code == 404
        assert browser.post(f"/classes/{school_class.id}/prompts", data={"prompts": "Hacked?"}).status_code == 404
    student_browser = new_client()
    login(student_browser, make_user(session, school))
    assert student_browser.post(f"/classes/{school_class.id}/prompts", data={"prompts": "Hacked?"}).status_code == 403
    admin_browser = new_client()
    login(admin_browser, make_user(session, school, Role.admin))
    assert admin_browser.get(f"/classes/{school_class.id}/prompts").status_code == 200
    session.refresh(school_class)
    assert school_class.reflection_prompts is None
    assert session.get(SchoolClass, school_class.id).name

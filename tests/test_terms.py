"""School years and terms: an admin adds them, makes classes in them, gives classes teachers, and rolls a year over
(new classes with the same people; the old ones archived, read-only, still there as history; portfolios untouched)."""

from sqlmodel import select

from app.models import (
    Artefact, AuditEvent, AuditEventKind, ClassRole, Enrollment, Role, SchoolClass, SchoolTerm,
)
from tests.factories import login, make_class, make_note, make_school, make_user


def _term(session, name: str) -> SchoolTerm:
    session.expire_all()
    return session.exec(select(SchoolTerm).where(SchoolTerm.name == name)).one()


def _members(session, school_class: SchoolClass, role: ClassRole) -> set[int]:
    session.expire_all()
    return set(session.exec(select(Enrollment.user_id).where(Enrollment.class_id == school_class.id,
                                                             Enrollment.role == role)).all())


def _add_term(client, **fields) -> object:
    return client.post("/admin/terms", data={"name": "", "school_year": "", "starts_on": "", "ends_on": ""} | fields)


def test_an_admin_adds_a_term_and_makes_a_class_in_it(client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    login(client, make_user(session, school, Role.admin))
    refused = _add_term(client, school_year="", starts_on="1 Sept", ends_on="")
    assert refused.status_code == 422
    assert 'id="school_year-error"' in refused.text and 'id="starts_on-error"' in refused.text
    backwards = _add_term(client, school_year="2026–27", starts_on="2027-06-30", ends_on="2026-09-01")
    assert backwards.status_code == 422 and 'id="ends_on-error"' in backwards.text
    assert session.exec(select(SchoolTerm)).first() is None

    assert _add_term(client, school_year="2026–27", starts_on="2026-09-01", ends_on="2027-06-30").status_code == 303
    term = _term(session, "2026–27")
    assert _add_term(client, school_year="2026–27").status_code == 422  # the same name twice
    form = client.get(f"/classes/new?term_id={term.id}").text
    assert f'<option value="{term.id}" selected>' in form
    response = client.post("/classes/new", data={"name": "Grade 5 Room 12", "term_id": str(term.id),
                                                  "teacher_id": str(teacher.id)})
    assert response.status_code == 303
    school_class = session.exec(select(SchoolClass).where(SchoolClass.name == "Grade 5 Room 12")).one()
    assert school_class.term_id == term.id and school_class.year == "2026–27"
    page = client.get(f"/admin/classes?term_id={term.id}").text
    assert "Grade 5 Room 12" in page and teacher.display_name in page
    kinds = {e.event for e in session.exec(select(AuditEvent)).all()}
    assert {AuditEventKind.term_created, AuditEventKind.class_created, AuditEventKind.enrolled} <= kinds


def test_another_schools_term_cannot_be_chosen(client, session):
    school, elsewhere = make_school(session), make_school(session)
    foreign = SchoolTerm(school_id=elsewhere.id, name="Theirs", school_year="2026–27")
    session.add(foreign)
    session.commit()
    login(client, make_user(session, school, Role.admin))
    response = client.post("/classes/new", data={"name": "Sneaky", "year": "2026–27", "term_id": str(foreign.id)})
    assert response.status_code == 422 and 'id="term_id-error"' in response.text
    assert client.get(f"/admin/terms/{foreign.id}/rollover").status_code == 404


def test_a_class_without_a_teacher_gets_one(client, session):
    school = make_school(session)
    teacher, other_school_teacher = make_user(session, school, Role.teacher), make_user(session, make_school(session), Role.teacher)
    school_class = make_class(session, school, name="Orphans")
    login(client, make_user(session, school, Role.admin))
    assert "Orphans" in client.get("/admin/classes").text  # a class without a term is listed too
    refused = client.post(f"/admin/classes/{school_class.id}/teachers", data={"teacher_id": str(other_school_teacher.id)})
    assert refused.status_code == 303 and _members(session, school_class, ClassRole.teacher) == set()
    assert client.post(f"/admin/classes/{school_class.id}/teachers", data={"teacher_id": str(teacher.id)}).status_code == 303
    assert _members(session, school_class, ClassRole.teacher) == {teacher.id}
    client.post(f"/admin/classes/{school_class.id}/teachers", data={"teacher_id": str(teacher.id)})
    assert session.exec(select(Enrollment).where(Enrollment.class_id == school_class.id)).all().__len__() == 1


def test_the_year_rolls_over_keeping_people_portfolios_and_history(client, new_client, session):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    teacher = make_user(session, school, Role.teacher)
    students = [make_user(session, school) for _ in range(3)]
    leaver = make_user(session, school, display_name="Gone Gina")
    old, new = (SchoolTerm(school_id=school.id, name=n, school_year=n) for n in ("2025–26", "2026–27"))
    session.add_all([old, new])
    session.commit()
    grade5 = make_class(session, school, teachers=[teacher], students=[*students, leaver], name="Grade 5")
    drama = make_class(session, school, teachers=[teacher], students=students[:1], name="Drama club")
    for school_class in (grade5, drama):
        school_class.term_id = old.id
        session.add(school_class)
    session.commit()
    note = make_note(session, students[0], title="My work from last year")
    leaver.is_active = False
    session.add(leaver)
    session.commit()
    grade5_id, drama_id, old_id, new_id = grade5.id, drama.id, old.id, new.id
    login(client, admin)

    form = client.get(f"/admin/terms/{old_id}/rollover").text
    assert "Grade 5" in form and "Drama club" in form and "2026–27" in form
    refused = client.post(f"/admin/terms/{old_id}/rollover", data={
        "target_term_id": "", "class_ids": [str(grade5_id), str(drama_id)], "names": ["Grade 6", ""],
        "carry": [str(grade5_id), str(drama_id)]})
    assert refused.status_code == 422
    assert 'id="target_term_id-error"' in refused.text and f'id="name-{drama_id}-error"' in refused.text
    assert not _term(session, "2025–26").archived

    response = client.post(f"/admin/terms/{old_id}/rollover", data={
        "target_term_id": str(new_id), "class_ids": [str(grade5_id), str(drama_id)], "names": ["Grade 6", "Drama"],
        "carry": [str(grade5_id)]})
    assert response.status_code == 303 and response.headers["location"] == f"/admin/classes?term_id={new_id}"
    session.expire_all()
    grade6 = session.exec(select(SchoolClass).where(SchoolClass.name == "Grade 6")).one()
    assert grade6.term_id == new_id and not grade6.archived and grade6.year == "2026–27"
    assert _members(session, grade6, ClassRole.student) == {s.id for s in students}  # not the leaver
    assert _members(session, grade6, ClassRole.teacher) == {teacher.id}
    assert session.get(SchoolClass, grade5_id).archived and session.get(SchoolClass, drama_id).archived
    assert _term(session, "2025–26").archived
    assert session.exec(select(SchoolClass).where(SchoolClass.name == "Drama")).first() is None
    # History: the old class keeps its members and can be read, not changed; portfolios are untouched.
    assert leaver.id in _members(session, session.get(SchoolClass, grade5_id), ClassRole.student)
    assert session.get(Artefact, note.id) is not None
    history = client.get(f"/admin/classes?term_id={old_id}").text
    assert "Grade 5" in history and "archived" in history.lower()
    teacher_browser = new_client()
    login(teacher_browser, teacher)
    home = teacher_browser.get("/teacher").text
    assert "Grade 6" in home and home.index("Past classes") < home.index(f'href="/classes/{grade5_id}"')
    assert teacher_browser.get(f"/classes/{grade5_id}").status_code == 200
    blocked = teacher_browser.post(f"/classes/{grade5_id}/prompts", data={"prompts": "Changed?"})
    assert blocked.status_code == 303 and session.get(SchoolClass, grade5_id).reflection_prompts is None
    [event] = session.exec(select(AuditEvent).where(AuditEvent.event == AuditEventKind.classes_rolled_over)).all()
    assert event.details["created"] == [grade6.id]
    assert client.get(f"/admin/terms/{old_id}/rollover").status_code == 303  # an archived term rolls over once


def test_the_classes_page_runs_the_same_number_of_queries_for_2_or_12_classes(client, session, count_queries):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    small, big = (SchoolTerm(school_id=school.id, name=n, school_year=n) for n in ("2025–26", "2026–27"))
    session.add_all([small, big])
    session.commit()
    for term, how_many in ((small, 2), (big, 12)):
        for _ in range(how_many):
            school_class = make_class(session, school, teachers=[teacher], students=[make_user(session, school)])
            school_class.term_id = term.id
            session.add(school_class)
    session.commit()
    login(client, make_user(session, school, Role.admin))
    counts = []
    for term in (small, big):
        with count_queries() as counter:
            assert client.get(f"/admin/classes?term_id={term.id}").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]

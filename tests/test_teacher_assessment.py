"""Teacher assessment: a teacher rates a student on the same scale; both histories are kept and shown side by side."""

import re

import pytest
from sqlmodel import select

from app.models import Competency, CompetencyRating, ProficiencyLevel, RatingArtefact, RatingSource, Role
from app.services.competencies.ratings import LatestRating, RatingDifference, difference
from tests.factories import link_guardian, login, make_class, make_framework, make_note, make_school, make_user


def _competency(session, framework, code):
    return session.exec(select(Competency).where(Competency.framework_id == framework.id, Competency.code == code)).one()


def _level(session, framework, label):
    return session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id,
                                                       ProficiencyLevel.label == label)).one()


def _ratings(session, student, source=None):
    statement = select(CompetencyRating).where(CompetencyRating.student_id == student.id)
    if source is not None:
        statement = statement.where(CompetencyRating.source == source)
    return session.exec(statement.order_by(CompetencyRating.id)).all()


@pytest.fixture
def world(session):
    """A school: Ms Shah teaches Maya and Leo; Mr Grey teaches another class; one framework for Ms Shah's class."""
    school = make_school(session)
    maya = make_user(session, school, display_name="Maya")
    leo = make_user(session, school, display_name="Leo")
    shah = make_user(session, school, Role.teacher, display_name="Ms Shah")
    grey = make_user(session, school, Role.teacher, display_name="Mr Grey")
    ours = make_class(session, school, teachers=[shah], students=[maya, leo])
    make_class(session, school, teachers=[grey], students=[make_user(session, school)])
    framework = make_framework(session, school, classes=[ours])
    return school, maya, leo, shah, grey, framework


def _rate(client, student, competency, level, comment="You explained your method clearly.", artefact_ids=()):
    return client.post(f"/students/{student.id}/competencies/{competency.id}/ratings",
                       data={"level_id": str(level.id), "comment": comment, "artefact_ids": [str(a) for a in artefact_ids]})


def test_difference_says_who_rates_higher_and_by_how_much(session, world):
    _school, _maya, _leo, _shah, _grey, framework = world
    levels = {label: _level(session, framework, label) for label in ("Emerging", "Developing", "Extending")}

    def latest(label):
        return LatestRating(CompetencyRating(), levels[label])

    assert difference(latest("Developing"), latest("Developing")) == RatingDifference(agree=True, higher=None, levels=0)
    assert difference(latest("Extending"), latest("Emerging")) == RatingDifference(False, RatingSource.self, 3)
    assert difference(latest("Emerging"), latest("Developing")) == RatingDifference(False, RatingSource.teacher, 1)
    assert difference(None, latest("Emerging")) is None and difference(latest("Emerging"), None) is None


def test_teacher_rates_and_history_keeps_both_sources(client, new_client, session, world):
    _school, maya, leo, shah, _grey, framework = world
    competency = _competency(session, framework, "COM.1")
    mine = make_note(session, maya, title="My speech")
    theirs = make_note(session, leo, title="Leo's poster")
    student_client = new_client()
    login(student_client, maya)
    student_client.post(f"/competencies/{competency.id}/ratings",
                        data={"level_id": str(_level(session, framework, "Developing").id), "reason": "I spoke up."})
    login(client, shah)
    page = client.get(f"/students/{maya.id}/competencies/{competency.id}")
    assert page.status_code == 200
    assert "Developing descriptor" in page.text and 'name="comment"' in page.text and "My speech" in page.text
    assert "Leo&#39;s poster" not in page.text  # only this student's work is offered
    response = _rate(client, maya, competency, _level(session, framework, "Proficient"), artefact_ids=[mine.id, theirs.id])
    assert response.status_code == 303
    assert response.headers["location"] == f"/students/{maya.id}/competencies/{competency.id}"
    _rate(client, maya, competency, _level(session, framework, "Extending"), comment="Even better now.")

    rows = _ratings(session, maya)
    assert [r.source for r in rows] == [RatingSource.self, RatingSource.teacher, RatingSource.teacher]
    assert all(r.rated_by_id == shah.id for r in rows[1:])
    linked = session.exec(select(RatingArtefact.artefact_id).where(RatingArtefact.rating_id == rows[1].id)).all()
    assert linked == [mine.id]  # another student's artefact is dropped

    html = client.get(f"/students/{maya.id}/competencies/{competency.id}").text
    assert "Your assessment of Maya is saved." in html
    assert html.count('class="rating-row rating-row--teacher"') == 2 and html.count("rating-row--self") == 1
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "growth-chart__point--self" in svg and len(re.findall("growth-chart__point--teacher", svg)) == 2
    assert "Differs:" in html and "the teacher's rating is 2 levels higher" in html
    assert " style=" not in html

    overview = client.get(f"/students/{maya.id}/competencies")
    assert overview.status_code == 200
    assert f'href="/students/{maya.id}/competencies/{competency.id}"' in overview.text
    assert "Extending" in overview.text and "Differs:" in overview.text


def test_teacher_rating_needs_a_level_of_this_framework_and_a_comment(client, session, world):
    school, maya, _leo, shah, _grey, framework = world
    competency = _competency(session, framework, "THK")
    other = make_framework(session, school, name="Another framework", levels=("Low", "High"))
    login(client, shah)
    response = _rate(client, maya, competency, _level(session, other, "High"))
    assert response.status_code == 422 and "Choose one of the levels of this competency" in response.text
    response = _rate(client, maya, competency, _level(session, framework, "Proficient"), comment="  ")
    assert response.status_code == 422 and "Write a comment" in response.text
    assert 'aria-invalid="true"' in response.text
    assert _ratings(session, maya) == []


def test_student_sees_the_teacher_rating_beside_their_own_and_where_they_differ(client, new_client, session, world):
    _school, maya, _leo, shah, _grey, framework = world
    competency = _competency(session, framework, "COM")
    login(client, maya)
    client.post(f"/competencies/{competency.id}/ratings",
                data={"level_id": str(_level(session, framework, "Developing").id), "reason": "I listen."})
    teacher = new_client()
    login(teacher, shah)
    _rate(teacher, maya, competency, _level(session, framework, "Proficient"), comment="Maya leads group talks well.")

    html = client.get(f"/competencies/{competency.id}").text
    assert ("You see yourself at Developing; Ms Shah sees you at Proficient. That's a good thing to talk about."
            in html)
    assert "Maya leads group talks well." in html
    assert "Ms Shah (teacher)" in html  # the "By" column names the teacher
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "growth-chart__point--self" in svg and "growth-chart__point--teacher" in svg

    _rate(teacher, maya, competency, _level(session, framework, "Developing"), comment="Now I agree.")
    html = client.get(f"/competencies/{competency.id}").text
    assert "You and Ms Shah both see you at Developing." in html and "good thing to talk about" not in html


def test_a_student_never_sees_another_students_teacher_assessment(client, new_client, session, world):
    _school, maya, leo, shah, _grey, framework = world
    competency = _competency(session, framework, "THK")
    login(client, shah)
    _rate(client, maya, competency, _level(session, framework, "Extending"), comment="Maya's private feedback")
    classmate = new_client()
    login(classmate, leo)
    page = classmate.get(f"/competencies/{competency.id}")
    assert page.status_code == 200
    assert "Maya&#39;s private feedback" not in page.text and "<svg" not in page.text and "Ms Shah" not in page.text
    assert "Extending" not in classmate.get("/competencies").text
    assert classmate.get(f"/students/{maya.id}/competencies").status_code == 403
    assert classmate.get(f"/students/{maya.id}/competencies/{competency.id}").status_code == 403
    assert _rate(classmate, maya, competency, _level(session, framework, "Emerging")).status_code == 403
    assert len(_ratings(session, maya)) == 1


def test_another_teacher_gets_404_and_saves_nothing(client, session, world):
    _school, maya, _leo, _shah, grey, framework = world
    competency = _competency(session, framework, "COM")
    login(client, grey)
    assert client.get(f"/students/{maya.id}/competencies").status_code == 404
    assert client.get(f"/students/{maya.id}/competencies/{competency.id}").status_code == 404
    assert _rate(client, maya, competency, _level(session, framework, "Emerging")).status_code == 404
    assert client.get("/students/999999/competencies").status_code == 404
    assert _ratings(session, maya) == []


def test_archived_class_ends_the_teachers_access(client, session, world):
    _school, maya, _leo, shah, _grey, framework = world
    from app.models import SchoolClass

    for school_class in session.exec(select(SchoolClass)).all():
        school_class.archived = True
        session.add(school_class)
    session.commit()
    login(client, shah)
    assert client.get(f"/students/{maya.id}/competencies").status_code == 404


def test_another_schools_teacher_and_competency_get_404(client, session, world):
    _school, maya, _leo, shah, _grey, framework = world
    elsewhere = make_school(session)
    stranger = make_user(session, elsewhere, Role.teacher)
    foreign = _competency(session, make_framework(session, elsewhere, name="Hillside"), "COM")
    login(client, stranger)
    assert client.get(f"/students/{maya.id}/competencies").status_code == 404
    client.cookies.clear()
    login(client, shah)
    assert client.get(f"/students/{maya.id}/competencies/{foreign.id}").status_code == 404
    assert _rate(client, maya, foreign, _level(session, framework, "Emerging")).status_code == 404
    assert client.get(f"/students/{shah.id}/competencies").status_code == 404  # not a student


@pytest.mark.parametrize("role", [Role.guardian, Role.admin])
def test_guardians_and_admins_cannot_assess(client, session, world, role):
    school, maya, _leo, _shah, _grey, framework = world
    competency = _competency(session, framework, "COM")
    user = make_user(session, school, role)
    if role is Role.guardian:
        link_guardian(session, user, maya)
    login(client, user)
    # The role guard answers 403 before any student is looked up, so nothing about the student leaks.
    assert client.get(f"/students/{maya.id}/competencies").status_code == 403
    assert client.get(f"/students/{maya.id}/competencies/{competency.id}").status_code == 403
    assert _rate(client, maya, competency, _level(session, framework, "Emerging")).status_code == 403
    assert _ratings(session, maya) == []


def test_teacher_overview_query_count_does_not_grow_with_ratings(client, session, count_queries, world):
    _school, maya, _leo, shah, _grey, framework = world
    competencies = session.exec(select(Competency).where(Competency.framework_id == framework.id)).all()
    level = _level(session, framework, "Developing")
    login(client, shah)
    counts = []
    for total in (3, 30):
        existing = len(_ratings(session, maya))
        for n in range(existing, total):
            source, rater = (RatingSource.self, maya) if n % 2 else (RatingSource.teacher, shah)
            session.add(CompetencyRating(student_id=maya.id, competency_id=competencies[n % len(competencies)].id,
                                         level_id=level.id, rated_by_id=rater.id, source=source, reason=f"r{n}"))
        session.commit()
        with count_queries() as counter:
            assert client.get(f"/students/{maya.id}/competencies").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_both_competency_overviews_say_when_there_is_nothing_to_rate(client, session):
    """The student's list and the teacher's view share templates/competencies/_overview.html: its empty cases too."""
    school = make_school(session)
    student = make_user(session, school, display_name="Maya")
    teacher = make_user(session, school, Role.teacher)
    school_class = make_class(session, school, teachers=[teacher], students=[student])
    pages = ((student, "/competencies"), (teacher, f"/students/{student.id}/competencies"))
    for user, path in pages:
        client.cookies.clear()
        login(client, user)
        page = client.get(path)
        assert page.status_code == 200 and "set up any competencies yet." in page.text, path
    make_framework(session, school, name="Empty framework", competencies=(), classes=[school_class])
    for user, path in pages:
        client.cookies.clear()
        login(client, user)
        page = client.get(path)
        assert "Empty framework" in page.text and "This framework has no competencies yet." in page.text, path
        assert "fw-tree" not in page.text

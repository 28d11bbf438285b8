"""The student's competencies: overview, one page per competency, self-assessment over time, the growth chart."""

import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from app.models import (
    Artefact,
    ArtefactCompetency,
    ArtefactKind,
    Competency,
    CompetencyRating,
    Goal,
    GoalCompetency,
    ProficiencyLevel,
    RatingArtefact,
    RatingSource,
    Reflection,
    ReflectionCompetency,
    Role,
)
from app.models.base import utcnow
from app.services.competencies.charts import ChartLevel, ChartPoint, ChartSeries, growth_chart_svg
from app.services.competencies.ratings import latest_ratings
from tests.factories import login, make_class, make_framework, make_school, make_user


def _competency(session, framework, code):
    return session.exec(select(Competency).where(Competency.framework_id == framework.id, Competency.code == code)).one()


def _level(session, framework, label):
    return session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id,
                                                       ProficiencyLevel.label == label)).one()


def _artefact(session, owner, title, day=1):
    artefact = Artefact(owner_id=owner.id, kind=ArtefactKind.note, title=title, body="…", occurred_on=date(2026, 3, day))
    session.add(artefact)
    session.commit()
    return artefact


def _ratings(session, student, competency):
    return session.exec(
        select(CompetencyRating).where(CompetencyRating.student_id == student.id, CompetencyRating.competency_id == competency.id)
        .order_by(CompetencyRating.id)
    ).all()


@pytest.fixture
def world(session):
    """A school with a framework used by a class, a student signed in later, and a classmate."""
    school = make_school(session)
    student, classmate = make_user(session, school, display_name="Maya"), make_user(session, school)
    school_class = make_class(session, school, students=[student, classmate])
    framework = make_framework(session, school, classes=[school_class])
    return school, student, classmate, framework


def test_self_assessment_history_is_kept_and_charted(client, session, world):
    _school, student, _classmate, framework = world
    competency = _competency(session, framework, "COM.1")
    login(client, student)
    steps = [("Emerging", "I mumbled my talk."), ("Developing", "I spoke clearly to my group."),
             ("Proficient", "I presented to the whole class.")]
    for label, reason in steps:
        response = client.post(f"/competencies/{competency.id}/ratings",
                               data={"level_id": str(_level(session, framework, label).id), "reason": reason})
        assert response.status_code == 303 and response.headers["location"] == f"/competencies/{competency.id}"
    rows = _ratings(session, student, competency)
    assert len(rows) == 3  # never overwritten: one row per rating
    assert all(r.source is RatingSource.self and r.rated_by_id == student.id for r in rows)
    for days_ago, row in zip((60, 30, 1), rows, strict=True):  # spread them over time
        row.created_at = utcnow() - timedelta(days=days_ago)
        session.add(row)
    session.commit()

    page = client.get(f"/competencies/{competency.id}")
    assert page.status_code == 200
    html = page.text
    assert "Your self-assessment is saved." in html  # the flash of the last post
    positions = [html.index(reason) for _label, reason in steps]
    assert positions[2] < positions[1] < positions[0]  # newest first
    assert html.count('class="rating-row"') == 3
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert len(re.findall(r'class="growth-chart__point growth-chart__point--self"', svg)) == 3
    assert "growth-chart__point--teacher" not in svg


def test_growth_chart_is_accessible_and_has_a_table_alternative(client, session, world):
    _school, student, _classmate, framework = world
    competency = _competency(session, framework, "COM")
    login(client, student)
    assert "You haven't rated yourself" in client.get(f"/competencies/{competency.id}").text
    client.post(f"/competencies/{competency.id}/ratings",
                data={"level_id": str(_level(session, framework, "Developing").id), "reason": "I listen well."})
    html = client.get(f"/competencies/{competency.id}").text
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg
    labelled_by = re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split()
    title_id = labelled_by[0]
    assert re.search(rf'<title id="{title_id}">Your ratings in COM Communication over time</title>', svg)
    assert f'<desc id="{labelled_by[1]}">' in svg
    assert "Emerging" in svg and "Extending" in svg  # the scale up the side
    assert "<caption>Your ratings, newest first</caption>" in html
    assert "<th scope=\"col\">Level</th>" in html and "I listen well." in html
    assert " style=" not in html  # the CSP forbids inline styles
    assert "<script" not in svg


def test_chart_draws_each_series_in_its_own_colour_and_shape():
    levels = [ChartLevel(1, "Emerging"), ChartLevel(2, "Developing"), ChartLevel(3, "Proficient")]
    now = utcnow()
    series = [
        ChartSeries("self", "Me", [ChartPoint(now - timedelta(days=10), 1, "Emerging"), ChartPoint(now, 3, "Proficient")]),
        ChartSeries("teacher", "Teacher", [ChartPoint(now - timedelta(days=5), 2, "Developing")]),
    ]
    svg = str(growth_chart_svg(levels=levels, series=series, title="Growth <in> COM", chart_id="g1"))
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-labelledby="g1-title g1-desc"' in svg
    assert "Growth &lt;in&gt; COM" in svg  # escaped
    self_points = re.findall(r'<(\w+) class="growth-chart__point growth-chart__point--self" fill="(#\w+)"', svg)
    teacher_points = re.findall(r'<(\w+) class="growth-chart__point growth-chart__point--teacher" fill="(#\w+)"', svg)
    assert len(self_points) == 2 and len(teacher_points) == 1
    assert {shape for shape, _ in self_points} == {"circle"} and {shape for shape, _ in teacher_points} == {"rect"}
    assert self_points[0][1] != teacher_points[0][1]
    assert "growth-chart__legend--self" in svg and "growth-chart__legend--teacher" in svg
    assert "stroke-dasharray" in svg  # the teacher's line is dashed, not just another colour
    assert " style=" not in svg
    empty = str(growth_chart_svg(levels=levels, series=[ChartSeries("self", "Me")], title="Nothing"))
    assert "No ratings yet." in empty and "growth-chart__point" not in empty


def test_rating_needs_a_level_of_this_framework_and_a_reason(client, session, world):
    school, student, _classmate, framework = world
    other_framework = make_framework(session, school, name="Other")
    competency = _competency(session, framework, "COM.1")
    login(client, student)
    url = f"/competencies/{competency.id}/ratings"
    foreign_level = _level(session, other_framework, "Proficient")
    response = client.post(url, data={"level_id": str(foreign_level.id), "reason": "Sneaky"})
    assert response.status_code == 422
    assert "Choose one of the levels of this competency&#39;s scale." in response.text
    assert 'id="level_id-error"' in response.text and "Sneaky" in response.text  # what was typed stays
    no_reason = client.post(url, data={"level_id": str(_level(session, framework, "Emerging").id), "reason": "  "})
    assert no_reason.status_code == 422 and "Say why you chose this level" in no_reason.text
    assert client.post(url, data={"reason": "No level"}).status_code == 422
    assert client.post(url, data={"level_id": "abc", "reason": "x"}).status_code == 422
    too_long = client.post(url, data={"level_id": str(_level(session, framework, "Emerging").id), "reason": "x" * 1001})
    assert too_long.status_code == 422 and "under 1000 characters" in too_long.text
    assert _ratings(session, student, competency) == []


def test_rating_links_only_the_students_own_evidence(client, session, world):
    _school, student, classmate, framework = world
    competency = _competency(session, framework, "THK")
    older, newer = _artefact(session, student, "Bridge model", day=2), _artefact(session, student, "Poster", day=9)
    theirs = _artefact(session, classmate, "Classmate's essay")
    login(client, student)
    form = client.get(f"/competencies/{competency.id}").text
    assert form.index("Poster") < form.index("Bridge model")  # newest first
    assert "Classmate&#39;s essay" not in form
    response = client.post(f"/competencies/{competency.id}/ratings", data={
        "level_id": str(_level(session, framework, "Developing").id), "reason": "I tested three designs.",
        "artefact_ids": [str(older.id), str(theirs.id), "nonsense"]})
    assert response.status_code == 303
    rating = _ratings(session, student, competency)[0]
    linked = session.exec(select(RatingArtefact.artefact_id).where(RatingArtefact.rating_id == rating.id)).all()
    assert linked == [older.id]
    page = client.get(f"/competencies/{competency.id}").text
    assert f'<a href="/artefacts/{older.id}">Bridge model</a>' in page
    assert newer.id != older.id


def test_competency_page_shows_description_scale_evidence_and_goals(client, session, world):
    _school, student, classmate, framework = world
    competency = _competency(session, framework, "COM")
    artefact = _artefact(session, student, "Debate recording")
    reflection = Reflection(owner_id=student.id, title="What I learned debating", body="…")
    goal = Goal(owner_id=student.id, title="Speak up in class")
    theirs = Reflection(owner_id=classmate.id, title="Classmate reflection", body="…")
    session.add_all([reflection, goal, theirs])
    session.flush()
    session.add_all([
        ArtefactCompetency(artefact_id=artefact.id, competency_id=competency.id),
        ReflectionCompetency(reflection_id=reflection.id, competency_id=competency.id),
        ReflectionCompetency(reflection_id=theirs.id, competency_id=competency.id),
        GoalCompetency(goal_id=goal.id, competency_id=competency.id),
    ])
    session.commit()
    login(client, student)
    html = client.get(f"/competencies/{competency.id}").text
    assert "<h1><code>COM</code> Communication</h1>" in html and "About Communication" in html
    assert "Developing descriptor" in html  # the scale with its descriptors
    assert f'<a href="/artefacts/{artefact.id}">Debate recording</a>' in html
    assert f'<a href="/reflections/{reflection.id}">What I learned debating</a>' in html
    assert f'<a href="/goals/{goal.id}">Speak up in class</a>' in html
    assert "Classmate reflection" not in html
    child = _competency(session, framework, "COM.1")
    assert f'href="/competencies/{child.id}"' in html  # its sub-competency


def test_overview_lists_available_competencies_with_the_latest_own_rating(client, session, world):
    _school, student, classmate, framework = world
    com, thk = _competency(session, framework, "COM"), _competency(session, framework, "THK")
    levels = {label: _level(session, framework, label) for label in ("Emerging", "Proficient", "Extending")}
    session.add_all([
        CompetencyRating(student_id=student.id, competency_id=com.id, level_id=levels["Emerging"].id, rated_by_id=student.id,
                         source=RatingSource.self, reason="a", created_at=utcnow() - timedelta(days=9)),
        CompetencyRating(student_id=student.id, competency_id=com.id, level_id=levels["Proficient"].id, rated_by_id=student.id,
                         source=RatingSource.self, reason="b", created_at=utcnow() - timedelta(days=1)),
        CompetencyRating(student_id=classmate.id, competency_id=thk.id, level_id=levels["Extending"].id,
                         rated_by_id=classmate.id, source=RatingSource.self, reason="c"),
    ])
    session.commit()
    login(client, student)
    html = client.get("/competencies").text
    assert "Core Competencies" in html
    for code in ("COM", "COM.1", "THK"):
        competency = _competency(session, framework, code)
        assert f'<a href="/competencies/{competency.id}"><code>{code}</code>' in html
    assert "Proficient" in html and "Emerging" not in html  # only the latest
    assert "Extending" not in html  # the classmate's rating is theirs
    assert html.count("Not rated yet") == 2
    latest = latest_ratings(session=session, student_id=student.id)
    assert {cid: view.level.label for cid, view in latest.items()} == {com.id: "Proficient"}


def test_overview_query_count_does_not_grow_with_ratings(client, session, count_queries, world):
    _school, student, _classmate, framework = world
    competencies = session.exec(select(Competency).where(Competency.framework_id == framework.id)).all()
    level = _level(session, framework, "Developing")
    login(client, student)
    counts = []
    for total in (3, 30):
        existing = len(session.exec(select(CompetencyRating.id).where(CompetencyRating.student_id == student.id)).all())
        for n in range(existing, total):
            session.add(CompetencyRating(student_id=student.id, competency_id=competencies[n % len(competencies)].id,
                                         level_id=level.id, rated_by_id=student.id, source=RatingSource.self, reason=f"r{n}"))
        session.commit()
        with count_queries() as counter:
            assert client.get("/competencies").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_archived_competency_keeps_its_page_but_cannot_be_rated(client, session, world):
    _school, student, _classmate, framework = world
    competency = _competency(session, framework, "COM.1")
    competency.archived = True
    session.add(competency)
    session.commit()
    login(client, student)
    assert f'href="/competencies/{competency.id}"' not in client.get("/competencies").text
    page = client.get(f"/competencies/{competency.id}")
    assert page.status_code == 200 and "archived this competency" in page.text
    assert f'action="/competencies/{competency.id}/ratings"' not in page.text
    response = client.post(f"/competencies/{competency.id}/ratings",
                           data={"level_id": str(_level(session, framework, "Emerging").id), "reason": "Still"})
    assert response.status_code == 422 and "can&#39;t be rated any more" in response.text
    assert _ratings(session, student, competency) == []


def test_students_cannot_reach_another_schools_competencies(client, session, world):
    _school, student, _classmate, _framework = world
    elsewhere = make_school(session)
    foreign = make_framework(session, elsewhere, name="Hillside skills")
    foreign_competency = _competency(session, foreign, "COM")
    login(client, student)
    assert client.get(f"/competencies/{foreign_competency.id}").status_code == 404
    response = client.post(f"/competencies/{foreign_competency.id}/ratings",
                           data={"level_id": str(_level(session, foreign, "Emerging").id), "reason": "x"})
    assert response.status_code == 404
    assert client.get("/competencies/999999").status_code == 404
    assert "Hillside skills" not in client.get("/competencies").text
    assert session.exec(select(CompetencyRating)).all() == []


def test_students_see_only_their_own_ratings(client, new_client, session, world):
    _school, student, classmate, framework = world
    competency = _competency(session, framework, "THK")
    login(client, student)
    client.post(f"/competencies/{competency.id}/ratings",
                data={"level_id": str(_level(session, framework, "Extending").id), "reason": "Maya's private reason"})
    other = new_client()
    login(other, classmate)
    page = other.get(f"/competencies/{competency.id}")
    assert page.status_code == 200
    assert "Maya&#39;s private reason" not in page.text and "<svg" not in page.text
    assert "Extending" not in other.get("/competencies").text


@pytest.mark.parametrize("role", [Role.teacher, Role.guardian, Role.admin])
def test_competency_pages_are_for_students(client, session, world, role):
    school, _student, _classmate, framework = world
    competency = _competency(session, framework, "COM")
    login(client, make_user(session, school, role))
    assert client.get("/competencies").status_code == 403
    assert client.get(f"/competencies/{competency.id}").status_code == 403
    assert client.post(f"/competencies/{competency.id}/ratings", data={"reason": "x"}).status_code == 403

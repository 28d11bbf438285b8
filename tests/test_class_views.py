"""A teacher's class overview, competency grid and student page: values, sorting, access, constant queries."""

from html import unescape
from datetime import UTC, date, datetime, timedelta

from app.models import (
    Audience,
    Comment,
    CommentKind,
    CommentStatus,
    CompetencyRating,
    FeedbackRequest,
    Goal,
    GoalStatus,
    RatingSource,
    RequestStatus,
    Role,
)
from tests.factories import login, make_class, make_framework, make_note, make_reflection, make_school, make_user


def _aged_reflection(session, student, *, days_ago: int, **kwargs):
    """A published reflection made `days_ago` days ago."""
    reflection = make_reflection(session, student, **kwargs)
    when = datetime.now(UTC) - timedelta(days=days_ago)
    reflection.created_at = reflection.published_at = when
    session.add(reflection)
    session.commit()
    return reflection


def _goal(session, student, status=GoalStatus.active, title="A goal"):
    goal = Goal(owner_id=student.id, title=title, status=status)
    session.add(goal)
    session.commit()
    return goal


def _request(session, student, item, status=RequestStatus.open):
    session.add(FeedbackRequest(student_id=student.id, item_id=item.id, status=status))
    session.commit()


def _comment(session, student, author, item, status):
    session.add(Comment(item_id=item.id, owner_id=student.id, author_id=author.id,
                        kind=CommentKind.peer, body="Nice", status=status))
    session.commit()


def _rate(session, student, competency, level, source, rated_by, when):
    session.add(CompetencyRating(student_id=student.id, competency_id=competency.id, level_id=level.id,
                                 rated_by_id=rated_by.id, source=source, created_at=when))
    session.commit()


def _classroom(session, n_students: int = 3):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    students = [make_user(session, school, display_name=f"Pupil {i:02d}") for i in range(n_students)]
    school_class = make_class(session, school, teachers=[teacher], students=students)
    return school, teacher, students, school_class


def _row(html: str, name: str) -> str:
    start = html.index(f">{name}</a>")
    return html[start:html.index("</tr>", start)]


# --- the class overview ------------------------------------------------------------------------


def test_overview_shows_each_students_figures_and_flags_quiet_students(client, session):
    school, teacher, (old, recent, silent), school_class = _classroom(session)
    classmate = make_user(session, school)
    note = make_note(session, old, title="Poster", occurred_on=date(2026, 3, 4))
    make_note(session, old, title="Earlier", occurred_on=date(2026, 1, 2))
    _aged_reflection(session, old, days_ago=30)
    _aged_reflection(session, recent, days_ago=2)
    make_reflection(session, silent, draft=True)  # a draft is not a reflection yet
    _goal(session, old)
    _goal(session, old, title="Second")
    _goal(session, old, GoalStatus.achieved)
    _request(session, old, note)
    _request(session, old, note, RequestStatus.answered)
    for status in (CommentStatus.pending, CommentStatus.reported, CommentStatus.visible):
        _comment(session, old, classmate, note, status)

    login(client, teacher)
    html = client.get(f"/classes/{school_class.id}/overview").text
    old_row, recent_row, silent_row = (_row(html, s.display_name) for s in (old, recent, silent))
    assert 'datetime="2026-03-04"' in old_row
    assert [cell.split("<")[0] for cell in old_row.split('<td class="num">')[1:]] == ["2", "1", "2"]
    assert "No reflection in 14 days" in old_row
    assert "No reflection in 14 days" not in recent_row
    # Issue 13: a student who has never reflected isn't "14 days" behind; say what is true.
    assert "Hasn't reflected yet" in unescape(silent_row) and "No reflection in" not in silent_row
    assert "Hasn't reflected yet" not in unescape(old_row)
    assert [cell.split("<")[0] for cell in silent_row.split('<td class="num">')[1:]] == ["0", "0", "0"]
    assert f'href="/students/{old.id}"' in html


def test_overview_sorts_by_a_column_with_plain_links_and_aria_sort(client, session):
    _school, teacher, (a, b, c), school_class = _classroom(session)
    _goal(session, b)
    _goal(session, b)
    _goal(session, c)
    login(client, teacher)
    html = client.get(f"/classes/{school_class.id}/overview?sort=goals&dir=desc").text
    assert html.index(b.display_name) < html.index(c.display_name) < html.index(a.display_name)
    assert html.count("aria-sort=") == 1 and 'aria-sort="descending"' in html
    assert 'href="?sort=goals&amp;dir=asc"' in html  # the sorted column's link turns it round
    ascending = client.get(f"/classes/{school_class.id}/overview?sort=goals&dir=asc").text
    assert ascending.index(a.display_name) < ascending.index(c.display_name) < ascending.index(b.display_name)
    fallback = client.get(f"/classes/{school_class.id}/overview?sort=nonsense&dir=sideways")
    assert fallback.status_code == 200 and 'aria-sort="ascending"' in fallback.text
    assert fallback.text.index(a.display_name) < fallback.text.index(b.display_name)


def test_overview_runs_the_same_number_of_queries_for_5_and_40_students(client, session, count_queries):
    counts = []
    for size in (5, 40):
        _school, teacher, students, school_class = _classroom(session, size)
        for student in students[:5]:
            make_note(session, student)
            _aged_reflection(session, student, days_ago=3)
            _goal(session, student)
        login(client, teacher)
        with count_queries() as counter:
            response = client.get(f"/classes/{school_class.id}/overview")
        assert response.status_code == 200 and response.text.count('<th scope="row">') == size
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_class_views_are_for_the_class_teachers_and_the_schools_admin(client, new_client, session):
    school, teacher, (student,), school_class = _classroom(session, 1)
    other_teacher = make_user(session, school, Role.teacher)
    admin = make_user(session, school, Role.admin)
    other_admin = make_user(session, make_school(session), Role.admin)
    for path in (f"/classes/{school_class.id}/overview", f"/classes/{school_class.id}/grid"):
        for user, status in ((teacher, 200), (admin, 200), (other_teacher, 404), (student, 403), (other_admin, 404)):
            browser = new_client()
            login(browser, user)
            assert browser.get(path).status_code == status, (path, user.username)
    login(client, teacher)
    assert client.get("/classes/99999/overview").status_code == 404


def test_class_page_links_to_the_overview_grid_and_each_student(client, session):
    _school, teacher, (student,), school_class = _classroom(session, 1)
    login(client, teacher)
    html = client.get(f"/classes/{school_class.id}").text
    assert f'href="/classes/{school_class.id}/overview"' in html
    assert f'href="/classes/{school_class.id}/grid"' in html
    assert f'<a href="/students/{student.id}">{student.display_name}</a>' in html


# --- the competency grid -----------------------------------------------------------------------


def test_grid_shows_latest_self_and_teacher_levels_as_text_with_a_colour_class(client, session):
    school, teacher, (ana, ben), school_class = _classroom(session, 2)
    framework = make_framework(session, school, classes=[school_class])
    make_framework(session, school, name="Unused here", competencies=(("ZZZ", "Not this class", None),))
    com = next(c for c in framework.competencies if c.code == "COM")
    emerging, developing, proficient, _extending = framework.levels
    now = datetime.now(UTC)
    _rate(session, ana, com, emerging, RatingSource.self, ana, now - timedelta(days=9))
    _rate(session, ana, com, developing, RatingSource.self, ana, now - timedelta(days=1))
    _rate(session, ana, com, emerging, RatingSource.teacher, teacher, now - timedelta(days=8))
    _rate(session, ana, com, proficient, RatingSource.teacher, teacher, now - timedelta(days=2))
    _rate(session, ben, com, emerging, RatingSource.self, ben, now)

    login(client, teacher)
    html = client.get(f"/classes/{school_class.id}/grid").text
    assert "<caption" in html and '<th scope="col"' in html and '<th scope="row">' in html
    assert "Not this class" not in html
    assert html.index("<code>COM</code>") < html.index("<code>COM.1</code>") < html.index("<code>THK</code>")
    ana_row, ben_row = _row(html, ana.display_name), _row(html, ben.display_name)
    cell = ana_row[ana_row.index('<td class="grid-cell'):]
    assert cell.startswith('<td class="grid-cell grid-level-3">')  # the teacher's Proficient decides the colour
    assert f'href="/students/{ana.id}/competencies/{com.id}"' in cell
    assert "Self: Developing" in cell.split("</td>")[0] and "Teacher: Proficient" in cell.split("</td>")[0]
    assert "Self: Emerging" in ben_row and "Teacher: not rated" in ben_row
    assert ben_row.count("Not rated yet") == 2  # COM.1 and THK


def test_grid_uses_the_schools_frameworks_when_the_class_names_none(client, session):
    school, teacher, _students, school_class = _classroom(session, 1)
    make_framework(session, school, name="School wide", competencies=(("SW", "School wide skill", None),))
    login(client, teacher)
    assert "School wide skill" in client.get(f"/classes/{school_class.id}/grid").text


def test_grid_runs_the_same_number_of_queries_for_5_and_40_students(client, session, count_queries):
    counts = []
    for size in (5, 40):
        school, teacher, students, school_class = _classroom(session, size)
        framework = make_framework(session, school, classes=[school_class])
        for student in students:
            for competency in framework.competencies:
                _rate(session, student, competency, framework.levels[1], RatingSource.self, student, datetime.now(UTC))
        login(client, teacher)
        with count_queries() as counter:
            response = client.get(f"/classes/{school_class.id}/grid")
        assert response.status_code == 200 and response.text.count("Self: Developing") == size * 3
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


# --- one student, as their teacher sees them -----------------------------------------------------


def test_student_page_shows_the_timeline_without_drafts_goals_and_competencies_link(client, session):
    _school, teacher, (student,), _class = _classroom(session, 1)
    make_note(session, student, title="Private poster", audience=Audience.private)
    make_reflection(session, student, title="Published thoughts")
    make_reflection(session, student, title="Half-written draft", draft=True)
    _goal(session, student, title="Read ten books")
    _goal(session, student, GoalStatus.achieved, title="Learn times tables")
    login(client, teacher)
    html = client.get(f"/students/{student.id}").text
    assert "Private poster" in html and "Published thoughts" in html
    assert "Half-written draft" not in html
    assert "Read ten books" in html and "Learn times tables" in html and "Achieved" in html
    assert f'href="/students/{student.id}/competencies"' in html
    fragment = client.get(f"/students/{student.id}", headers={"HX-Request": "true"}).text
    # The fragment is the timeline alone (goals are items on it too), without the page's panels.
    assert fragment.lstrip().startswith('<div id="timeline">') and "Private poster" in fragment
    assert f'href="/students/{student.id}/competencies"' not in fragment


def test_student_page_is_only_for_the_students_teachers(client, new_client, session):
    school, teacher, (student,), _class = _classroom(session, 1)
    classmate = make_user(session, school)
    make_class(session, school, students=[student, classmate])
    guardian = make_user(session, school, Role.guardian)
    from tests.factories import link_guardian

    link_guardian(session, guardian, student)
    outsiders = ((make_user(session, school, Role.teacher), 404), (classmate, 403), (student, 403),
                 (guardian, 403), (make_user(session, school, Role.admin), 403),
                 (make_user(session, make_school(session), Role.teacher), 404))
    for user, status in ((teacher, 200), *outsiders):
        browser = new_client()
        login(browser, user)
        assert browser.get(f"/students/{student.id}").status_code == status, user.username
    login(client, teacher)
    assert client.get(f"/students/{teacher.id}").status_code == 404
    assert client.get("/students/99999").status_code == 404


def test_student_page_is_paginated_with_constant_queries(client, session, count_queries):
    _school, teacher, (few, many), _class = _classroom(session, 2)
    for i in range(3):
        make_note(session, few, title=f"Few {i}")
    for i in range(45):
        make_note(session, many, title=f"Many {i:02d}", occurred_on=date(2026, 1, 1) + timedelta(days=i))
        if i % 9 == 0:
            _goal(session, many, title=f"Goal {i}")
            make_reflection(session, many, title=f"Reflection {i}")
    login(client, teacher)
    counts = []
    for student in (few, many):
        with count_queries() as counter:
            assert client.get(f"/students/{student.id}").status_code == 200
        counts.append(counter.count)
    assert counts[0] <= counts[1] <= counts[0] + 2, counts  # at most one more query per item type on the page
    second = client.get(f"/students/{many.id}?page=2").text
    assert "Page 2 of 3" in second and "Many 44" not in second

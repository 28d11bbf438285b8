"""Work a page no longer repeats on every view: excerpts parsed once (their cache kept small), no row loaded for
every classmate on a student's home."""

from app.services.portfolio import markdown


def test_an_excerpt_is_parsed_once_and_the_same_text_gives_the_same_excerpt(monkeypatch):
    parsed: list[str] = []
    real = markdown._plain_text
    monkeypatch.setattr(markdown, "_plain_text", lambda text, limit: parsed.append(text) or real(text, limit))
    text = "We mixed **baking soda** and vinegar: <the> pressure builds. " * 10
    first = markdown.plain_text(text, 180)
    assert markdown.plain_text(text, 180) == first
    assert first.startswith("We mixed baking soda and vinegar: <the> pressure") and first.endswith("…")
    assert len(first) <= 180
    assert parsed == [text]
    assert markdown.plain_text(text, 60) != first  # the limit is part of what is cached
    assert markdown.plain_text(text + " Then it erupted.", 180) == first  # same first 180 characters, new text
    assert len(parsed) == 3


def test_the_excerpt_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(markdown, "_EXCERPTS", {})
    monkeypatch.setattr(markdown, "_EXCERPTS_MAX", 50)
    for n in range(175):
        assert markdown.plain_text(f"Note number {n}", 100) == f"Note number {n}"
    assert 0 < len(markdown._EXCERPTS) <= 50


def test_the_student_home_names_each_class_with_its_teachers_whatever_the_class_size(client, session, count_queries):
    from app.models import ClassRole, EnrolledVia, Role
    from app.services.classes.classes import enroll
    from tests.factories import login, make_class, make_school, make_user

    school = make_school(session)
    maya = make_user(session, school, display_name="Maya Chen")
    teachers = [make_user(session, school, Role.teacher, display_name=name) for name in ("Zoe Park", "Ana Ruiz")]
    science = make_class(session, school, teachers=teachers, students=[maya], name="Science 5")
    make_class(session, school, students=[maya], name="Art club")  # no teacher yet
    login(client, maya)
    counts = []
    for classmates in (2, 30):
        while len(science.enrollments) < classmates + 3:
            enroll(session=session, school_class=science, user=make_user(session, school), role=ClassRole.student,
                   via=EnrolledVia.admin)
            session.commit()
            session.refresh(science)
        with count_queries() as counter:
            html = client.get("/student").text
        counts.append(len(counter.statements))
        assert "Science 5 <span class=\"muted\">· Ana Ruiz, Zoe Park</span>" in html
        assert "Art club <span class=\"muted\">· </span>" in html
    assert counts[0] == counts[1], counts


def test_the_student_home_shows_goals_and_active_ones_with_progress_from_one_goal_query(client, session, count_queries):
    from datetime import date, timedelta

    from app.models import Goal, GoalStatus, GoalStep
    from tests.factories import login, make_school, make_user

    school = make_school(session)
    maya, noah = make_user(session, school), make_user(session, school)

    def goal(owner, title, *, status=GoalStatus.active, due=None, steps=(), audience=None):
        row = Goal(owner_id=owner.id, title=title, status=status, target_date=due)
        session.add(row)
        session.flush()
        session.add_all(GoalStep(goal_id=row.id, text=f"step {n}", position=n, done=done) for n, done in enumerate(steps))
        session.commit()
        return row

    goal(maya, "Zebra facts", steps=(True, False))
    goal(maya, "Algebra", due=date.today() + timedelta(days=3), steps=(True, True, False))
    goal(maya, "Done already", status=GoalStatus.achieved, steps=(True,))
    goal(noah, "Noah's own", steps=(True, True, True, True))  # steps of another student's goal count for nobody here
    login(client, maya)
    with count_queries() as counter:
        html = client.get("/student").text
    goal_queries = [s for s in counter.statements if "goals.owner_id = " in s]  # not the timeline's rows by id
    assert len(goal_queries) == 1, goal_queries
    side = html[html.index('id="goals-heading"'):]
    assert side.index("Algebra") < side.index("Zebra facts")  # soonest target date first
    assert "Done already" not in side[:side.index("</section>")]
    assert "2 of 3 steps" in side and "1 of 2 steps" in side and "4 of 4" not in html
    dropdown = html[html.index('id="goal"'):html.index("</select>", html.index('id="goal"'))]
    assert [t for t in ("Algebra", "Done already", "Zebra facts") if t in dropdown] == ["Algebra", "Done already",
                                                                                      "Zebra facts"]
    assert "Noah" not in dropdown

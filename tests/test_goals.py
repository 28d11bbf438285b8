"""Goals: from the first step to the closing reflection, what bad input gets, and who may see or change a goal."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import func, select

from app.models import (
    Artefact,
    ArtefactKind,
    Audience,
    CheckIn,
    CheckInArtefact,
    CheckInStep,
    Goal,
    GoalCompetency,
    GoalStatus,
    GoalStep,
    Reflection,
    ReflectionGoal,
    ReflectionStatus,
    Role,
    Item,
)
from app.services.portfolio import goal_forms
from app.services.portfolio import goals
from app.services.portfolio import goal_steps
from tests.factories import link_guardian, login, make_class, make_framework, make_school, make_user

IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()


def make_artefact(session, owner, title="Book review poster", audience=Audience.private) -> Artefact:
    artefact = Artefact(owner_id=owner.id, kind=ArtefactKind.note, title=title, body="My notes",
                        occurred_on=date.today(), audience=audience)
    session.add(artefact)
    session.commit()
    return artefact


def make_goal(session, owner, *, title="Read five books", audience=Audience.private, steps=("Choose books", "Read one")) -> Goal:
    data = goal_forms.GoalData(title=title, why="To read faster", success_criteria="I finish the fifth book",
                          target_date=None, audience=audience, competency_ids=set(), steps=list(steps))
    goal = goals.create_goal(session=session, owner=owner, data=data)
    session.commit()
    return goal


def post_goal(client, **overrides) -> int:
    data = {"title": "Read five books", "why": "So I can read chapter books on my own",
            "success_criteria": "I can tell the class about five books", "target_date": IN_A_MONTH,
            "audience": "private", "steps": ["Choose five books", "Read the first one", ""]}
    data.update(overrides)
    response = client.post("/goals/new", data=data)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def fresh(session, model, item_id):
    """The row as the database has it now (the app wrote it through its own session)."""
    session.expire_all()
    return session.get(model, item_id)


def steps_of(session, goal_id) -> list[GoalStep]:
    session.expire_all()
    return list(session.exec(select(GoalStep).where(GoalStep.goal_id == goal_id).order_by(GoalStep.position)).all())


def count(session, model, *where) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


# --- the lifecycle -----------------------------------------------------------------------------


def test_goal_lifecycle_from_steps_and_checkins_to_a_closing_reflection(client, session):
    school = make_school(session)
    student = make_user(session, school)
    reading_class = make_class(session, school, students=[student])
    framework = make_framework(session, school, classes=[reading_class])
    foreign = make_framework(session, make_school(session), name="Elsewhere")
    ours = {c.code: c.id for c in framework_competencies(session, framework.id)}
    theirs = framework_competencies(session, foreign.id)[0].id
    poster = make_artefact(session, student)
    login(client, student)

    form = client.get("/goals/new").text
    assert 'name="competency_ids"' in form and "you and your teachers" in form.lower()
    goal_id = post_goal(client, steps=["Choose five books", "Read the first one", "", "Tell the class"],
                        competency_ids=[str(ours["COM.1"]), str(theirs)])
    goal = fresh(session, Goal, goal_id)
    assert (goal.owner_id, goal.status, goal.audience) == (student.id, GoalStatus.active, Audience.private)
    assert goal.target_date.isoformat() == IN_A_MONTH
    assert [s.text for s in steps_of(session, goal_id)] == ["Choose five books", "Read the first one", "Tell the class"]
    picked = session.exec(select(GoalCompetency.competency_id).where(GoalCompetency.goal_id == goal_id)).all()
    assert picked == [ours["COM.1"]]  # the other school's competency was not offered, so it is dropped
    assert count(session, Item, Item.id == goal_id) == 1
    assert "0 of 3 steps done" in client.get("/goals").text

    # Tick the first step on the goal page, the HTMX way: only the step list comes back.
    first, second, third = steps_of(session, goal_id)
    fragment = client.post(f"/goals/{goal_id}/steps/{first.id}/toggle", data={"done": "true"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="goal-steps"') and "1 of 3 steps done" in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    assert fresh(session, GoalStep, first.id).done and fresh(session, GoalStep, first.id).done_at is not None

    # A check-in with evidence, ticking the second step.
    response = client.post(f"/goals/{goal_id}/checkins", data={
        "occurred_on": date.today().isoformat(), "note": "Finished the first book!",
        "artefact_ids": [str(poster.id)], "step_ids": [str(second.id)]})
    assert response.status_code == 303
    checkin = session.exec(select(CheckIn).where(CheckIn.goal_id == goal_id)).one()
    assert checkin.note == "Finished the first book!" and checkin.occurred_on == date.today()
    assert session.exec(select(CheckInArtefact.artefact_id).where(CheckInArtefact.checkin_id == checkin.id)).all() == [poster.id]
    assert session.exec(select(CheckInStep.step_id).where(CheckInStep.checkin_id == checkin.id)).all() == [second.id]
    assert fresh(session, GoalStep, second.id).done and not fresh(session, GoalStep, third.id).done
    page = client.get(f"/goals/{goal_id}").text
    assert "Finished the first book!" in page and "Book review poster" in page and "2 of 3 steps done" in page
    assert '<progress id="progress-' in page

    assert client.post(f"/goals/{goal_id}/status", data={"action": "pause"}).status_code == 303
    assert fresh(session, Goal, goal_id).status is GoalStatus.paused
    assert client.post(f"/goals/{goal_id}/status", data={"action": "resume"}).status_code == 303
    assert fresh(session, Goal, goal_id).status is GoalStatus.active

    # Achieving asks for a closing reflection; without it, nothing changes.
    assert "What did you achieve, and how?" in client.get(f"/goals/{goal_id}/achieve").text
    refused = client.post(f"/goals/{goal_id}/achieve", data={"closing_text": "   "})
    assert refused.status_code == 422
    assert 'id="closing_text-error"' in refused.text and "Write a sentence or two" in refused.text
    assert fresh(session, Goal, goal_id).status is GoalStatus.active
    assert count(session, Reflection, Reflection.owner_id == student.id) == 0

    response = client.post(f"/goals/{goal_id}/achieve", data={"closing_text": "I read a book a week, at bedtime."})
    assert response.status_code == 303
    goal = fresh(session, Goal, goal_id)
    assert goal.status is GoalStatus.achieved and goal.achieved_at is not None
    reflection = session.get(Reflection, goal.closing_reflection_id)
    assert reflection.owner_id == student.id and reflection.title == "Achieved: Read five books"
    assert reflection.body == "I read a book a week, at bedtime."
    assert reflection.status is ReflectionStatus.published and reflection.audience is Audience.private
    assert session.exec(select(ReflectionGoal).where(ReflectionGoal.reflection_id == reflection.id)).one().goal_id == goal_id
    entry = session.exec(select(Item).where(
        Item.id == reflection.id)).one()
    assert entry.owner_id == student.id and entry.kind == "published"
    goal_entry = session.exec(select(Item).where(
        Item.id == goal_id)).one()
    assert goal_entry.kind == "achieved"
    assert "I read a book a week, at bedtime." in client.get(f"/goals/{goal_id}").text
    lists = client.get("/goals").text
    assert lists.index("Achieved") < lists.index("Read five books")


def framework_competencies(session, framework_id):
    from app.models import Competency

    return list(session.exec(select(Competency).where(Competency.framework_id == framework_id).order_by(Competency.id)).all())


def test_steps_can_be_ticked_without_javascript_and_edited(client, session):
    student = make_user(session, make_school(session))
    goal = make_goal(session, student, steps=("One", "Two", "Three"))
    login(client, student)
    one, two, three = steps_of(session, goal.id)

    response = client.post(f"/goals/{goal.id}/steps/{one.id}/toggle", data={"done": "true"})
    assert response.status_code == 303 and response.headers["location"] == f"/goals/{goal.id}#steps"
    # Sending the same form twice (a double click) leaves it ticked.
    client.post(f"/goals/{goal.id}/steps/{one.id}/toggle", data={"done": "true"})
    assert fresh(session, GoalStep, one.id).done
    client.post(f"/goals/{goal.id}/steps/{one.id}/toggle", data={"done": "false"})
    assert not fresh(session, GoalStep, one.id).done and fresh(session, GoalStep, one.id).done_at is None

    assert client.post(f"/goals/{goal.id}/steps", data={"text": "Four"}).status_code == 303
    assert client.post(f"/goals/{goal.id}/steps/{three.id}/rename", data={"text": "Three, renamed"}).status_code == 303
    assert client.post(f"/goals/{goal.id}/steps/{three.id}/move", data={"direction": "up"}).status_code == 303
    assert client.post(f"/goals/{goal.id}/steps/{one.id}/move", data={"direction": "up"}).status_code == 303  # already first
    assert client.post(f"/goals/{goal.id}/steps/{two.id}/delete").status_code == 303
    assert [s.text for s in steps_of(session, goal.id)] == ["One", "Three, renamed", "Four"]

    refused = client.post(f"/goals/{goal.id}/steps", data={"text": "  "})
    assert refused.status_code == 422 and 'id="text-error"' in refused.text
    refused = client.post(f"/goals/{goal.id}/steps/{one.id}/rename", data={"text": "x" * 301})
    assert refused.status_code == 422 and f'id="step-{one.id}-error"' in refused.text and "300 characters" in refused.text
    assert [s.text for s in steps_of(session, goal.id)] == ["One", "Three, renamed", "Four"]
    edit = client.get(f"/goals/{goal.id}/edit").text
    assert f'action="/goals/{goal.id}/steps"' in edit and "Move down" in edit


def test_drop_reopen_and_delete(client, session):
    student = make_user(session, make_school(session))
    goal = make_goal(session, student)
    login(client, student)
    assert client.post(f"/goals/{goal.id}/status", data={"action": "drop"}).status_code == 303
    assert fresh(session, Goal, goal.id).status is GoalStatus.dropped
    refused = client.post(f"/goals/{goal.id}/status", data={"action": "pause"})
    assert refused.status_code == 303
    assert "Only a goal you&#39;re working on can be paused." in client.get(refused.headers["location"]).text
    assert fresh(session, Goal, goal.id).status is GoalStatus.dropped
    assert client.get(f"/goals/{goal.id}/achieve").status_code == 303  # a dropped goal is reopened first
    assert client.post(f"/goals/{goal.id}/status", data={"action": "reopen"}).status_code == 303
    assert fresh(session, Goal, goal.id).status is GoalStatus.active

    goal_id = goal.id
    assert client.post(f"/goals/{goal_id}/delete").status_code == 303
    assert fresh(session, Goal, goal_id) is None
    assert count(session, GoalStep, GoalStep.goal_id == goal_id) == 0
    assert count(session, Item, Item.id == goal_id) == 0
    assert client.get(f"/goals/{goal_id}").status_code == 404


# --- bad input ---------------------------------------------------------------------------------


def test_goal_form_errors_are_shown_beside_each_field_and_save_nothing(client, session):
    student = make_user(session, make_school(session))
    login(client, student)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    response = client.post("/goals/new", data={"title": "", "target_date": "next week", "audience": "everyone",
                                               "why": "Because", "steps": ["ok", "y" * 301]})
    assert response.status_code == 422
    html = response.text
    assert 'id="title-error"' in html and "Give your goal a title" in html
    assert 'id="target_date-error"' in html and "Use a date like" in html
    assert 'id="audience-error"' in html and "Choose who can see your goal." in html
    assert 'id="step-2-error"' in html and "300 characters" in html
    assert ">Because</textarea>" in html and 'value="ok"' in html  # what was typed comes back
    assert 'aria-invalid="true"' in html
    assert count(session, Goal, Goal.owner_id == student.id) == 0

    response = client.post("/goals/new", data={"title": "t" * 201, "target_date": yesterday})
    assert response.status_code == 422
    assert "at most 200 characters (this has 201)" in response.text and "already passed" in response.text
    assert count(session, Goal, Goal.owner_id == student.id) == 0

    goal = make_goal(session, student)
    response = client.post(f"/goals/{goal.id}/edit", data={"title": " ", "audience": "class"})
    assert response.status_code == 422 and 'id="title-error"' in response.text
    assert fresh(session, Goal, goal.id).title == "Read five books"
    assert client.post(f"/goals/{goal.id}/edit", data={"title": "Read ten books", "audience": "class"}).status_code == 303
    goal = fresh(session, Goal, goal.id)
    assert (goal.title, goal.audience) == ("Read ten books", Audience.class_)
    entry = session.exec(select(Item).where(Item.id == goal.id)).one()
    assert (entry.title, entry.audience) == ("Read ten books", Audience.class_)


def test_checkin_problems_are_explained_and_save_nothing(client, session):
    school = make_school(session)
    student, other = make_user(session, school), make_user(session, school)
    goal = make_goal(session, student)
    not_theirs = make_artefact(session, other, title="Someone else's work")
    login(client, student)

    response = client.post(f"/goals/{goal.id}/checkins", data={"note": "Look at this", "artefact_ids": [str(not_theirs.id)]})
    assert response.status_code == 422 and "You can only add your own evidence" in response.text
    assert ">Look at this</textarea>" in response.text
    tomorrow_but_one = (date.today() + timedelta(days=2)).isoformat()
    response = client.post(f"/goals/{goal.id}/checkins", data={"note": "From the future", "occurred_on": tomorrow_but_one})
    assert response.status_code == 422 and 'id="occurred_on-error"' in response.text
    response = client.post(f"/goals/{goal.id}/checkins", data={"note": ""})
    assert response.status_code == 422 and 'id="note-error"' in response.text
    other_goal = make_goal(session, other)
    foreign_step = steps_of(session, other_goal.id)[0]
    response = client.post(f"/goals/{goal.id}/checkins", data={"note": "Done", "step_ids": [str(foreign_step.id)]})
    assert response.status_code == 422 and "this goal" in response.text
    assert count(session, CheckIn) == 0 and not fresh(session, GoalStep, foreign_step.id).done


# --- who sees what -----------------------------------------------------------------------------


def _every_post(goal: Goal, step: GoalStep) -> list[tuple[str, dict]]:
    base = f"/goals/{goal.id}"
    return [
        (f"{base}/edit", {"title": "Hijacked", "audience": "class"}),
        (f"{base}/steps", {"text": "Hijacked step"}),
        (f"{base}/steps/{step.id}/toggle", {"done": "true"}),
        (f"{base}/steps/{step.id}/rename", {"text": "Hijacked"}),
        (f"{base}/steps/{step.id}/move", {"direction": "down"}),
        (f"{base}/steps/{step.id}/delete", {}),
        (f"{base}/checkins", {"note": "Hijacked"}),
        (f"{base}/achieve", {"closing_text": "Hijacked"}),
        (f"{base}/status", {"action": "drop"}),
        (f"{base}/delete", {}),
    ]


def test_a_private_goal_is_for_the_student_and_their_teachers_only(client, session):
    school = make_school(session)
    student, classmate = make_user(session, school), make_user(session, school)
    teacher, other_teacher = make_user(session, school, Role.teacher), make_user(session, school, Role.teacher)
    guardian = make_user(session, school, Role.guardian)
    make_class(session, school, teachers=[teacher], students=[student, classmate])
    make_class(session, school, teachers=[other_teacher], students=[make_user(session, school)])
    link_guardian(session, guardian, student)
    goal = make_goal(session, student, title="My secret goal")
    step = steps_of(session, goal.id)[0]

    for outsider in (classmate, guardian, other_teacher):
        client.cookies.clear()
        login(client, outsider)
        for path in (f"/goals/{goal.id}", f"/goals/{goal.id}/edit", f"/goals/{goal.id}/achieve"):
            assert client.get(path).status_code == 404, (outsider.role, path)
        for path, data in _every_post(goal, step):
            assert client.post(path, data=data).status_code == 404, (outsider.role, path)
        assert client.post(f"/goals/{goal.id}/steps/{step.id}/toggle", headers={"HX-Request": "true"}).status_code == 404

    client.cookies.clear()
    login(client, teacher)
    page = client.get(f"/goals/{goal.id}")
    assert page.status_code == 200 and "My secret goal" in page.text
    assert f"/goals/{goal.id}/edit" not in page.text and "/toggle" not in page.text and "/checkins" not in page.text
    for path, data in _every_post(goal, step):
        assert client.post(path, data=data).status_code == 404, ("teacher", path)
    assert client.get("/goals").status_code == 403 and client.get("/goals/new").status_code == 403
    assert client.get("/goals/999999").status_code == 404 and client.get("/goals/not-a-number").status_code == 404

    kept = fresh(session, Goal, goal.id)
    assert (kept.title, kept.status, kept.audience) == ("My secret goal", GoalStatus.active, Audience.private)
    assert [(s.text, s.done) for s in steps_of(session, goal.id)] == [("Choose books", False), ("Read one", False)]
    assert count(session, CheckIn) == 0 and count(session, Reflection) == 0


def test_class_and_family_goals_reach_their_audiences(client, session):
    school = make_school(session)
    student, classmate, stranger = make_user(session, school), make_user(session, school), make_user(session, school)
    guardian = make_user(session, school, Role.guardian)
    make_class(session, school, students=[student, classmate])
    make_class(session, school, students=[stranger])
    link_guardian(session, guardian, student)
    class_goal = make_goal(session, student, title="Class goal", audience=Audience.class_)
    family_goal = make_goal(session, student, title="Family goal", audience=Audience.family)
    private_poster = make_artefact(session, student, title="Private poster")
    login(client, student)
    client.post(f"/goals/{class_goal.id}/checkins", data={"note": "Progress!", "artefact_ids": [str(private_poster.id)]})

    client.cookies.clear()
    login(client, classmate)
    page = client.get(f"/goals/{class_goal.id}")
    assert page.status_code == 200 and "Class goal" in page.text and "Progress!" in page.text
    assert "Private poster" not in page.text  # evidence keeps its own audience
    assert f"/goals/{class_goal.id}/edit" not in page.text
    assert client.get(f"/goals/{family_goal.id}").status_code == 404

    client.cookies.clear()
    login(client, guardian)
    assert client.get(f"/goals/{family_goal.id}").status_code == 200
    assert client.get(f"/goals/{class_goal.id}").status_code == 404

    client.cookies.clear()
    login(client, stranger)
    assert client.get(f"/goals/{class_goal.id}").status_code == 404


def test_goals_list_and_new_goal_are_for_students(client, session):
    school = make_school(session)
    for role in (Role.teacher, Role.guardian, Role.admin):
        client.cookies.clear()
        login(client, make_user(session, school, role))
        assert client.get("/goals").status_code == 403
        assert client.get("/goals/new").status_code == 403
        assert client.post("/goals/new", data={"title": "Nope"}).status_code == 403
    assert count(session, Goal) == 0


# --- lists and the home-page panel -------------------------------------------------------------


def test_goals_list_runs_the_same_number_of_queries_for_2_or_20_goals(client, session, count_queries):
    student = make_user(session, make_school(session))
    login(client, student)
    counts = {}
    made = 0
    for size in (2, 20):
        while made < size:
            goal = make_goal(session, student, title=f"Goal {made}", steps=("a", "b", "c"))
            if made % 3 == 0:
                goals.set_status(session=session, goal=goal, action="pause")
                session.commit()
            made += 1
        with count_queries() as counter:
            response = client.get("/goals")
        assert response.status_code == 200 and "Goal 0" in response.text
        counts[size] = counter.count
    assert counts[2] == counts[20]


def test_active_goals_with_progress_for_the_home_page(session):
    student = make_user(session, make_school(session))
    later = make_goal(session, student, title="Later")
    soon = make_goal(session, student, title="Soon")
    paused = make_goal(session, student, title="Paused")
    for goal, days in ((later, 20), (soon, 5)):
        goal.target_date = date.today() + timedelta(days=days)
        session.add(goal)
    goals.set_status(session=session, goal=paused, action="pause")
    session.commit()
    goal_steps.toggle_step(session=session, goal=soon, step_id=steps_of(session, soon.id)[0].id)
    session.commit()
    make_goal(session, student, title="No steps", steps=())

    panel = goals.active_goals_with_progress(session=session, owner=student)
    assert [(p.goal.title, p.done, p.total) for p in panel] == [("Soon", 1, 2), ("Later", 0, 2), ("No steps", 0, 0)]
    assert len(goals.active_goals_with_progress(session=session, owner=student, limit=1)) == 1


def _goal_steps_read(session, run) -> int:
    """How many goal_steps rows the statements `run` makes read, from the database's own plans (EXPLAIN ANALYZE)."""
    import json

    from sqlalchemy import event

    engine = session.get_bind()
    statements = []
    record = lambda _c, _cur, statement, parameters, *_a: statements.append((statement, parameters))  # noqa: E731
    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    cursor = session.connection().connection.driver_connection.cursor()
    total = 0

    def walk(node) -> int:
        own = node.get("Actual Rows", 0) * node.get("Actual Loops", 1) if node.get("Relation Name") == "goal_steps" else 0
        return own + sum(walk(child) for child in node.get("Plans", []))

    for statement, parameters in statements:
        if "goal_steps" in statement:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0]
            total += walk((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    return total


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_step_counts_read_only_the_owners_steps(session):
    """The home page's goal panel and the family's goal list count one student's steps, not every goal's (at a
    district's size, a count over the whole table took longer than the rest of the page)."""
    from app.services.family import family

    school = make_school(session)
    student, other = make_user(session, school), make_user(session, school)
    for n in range(10):
        make_goal(session, other, title=f"Other {n}", steps=("a", "b", "c"))
    make_goal(session, student, title="Mine", audience=Audience.family, steps=("a", "b"))
    # A district's worth of other steps, and fresh statistics: with a few dozen rows (or the statistics earlier tests
    # left on a reused database) the planner may read a tiny table whole whatever the query says.
    session.exec(sa.text("INSERT INTO goal_steps (goal_id, text, position, done, version) "
                         "SELECT g.id, 'step', n, false, 1 FROM goals g CROSS JOIN generate_series(1, 300) n "
                         "WHERE g.owner_id = :other"), params={"other": other.id})
    session.commit()
    for table in ("goal_steps", "goals", "items"):
        session.exec(sa.text(f"ANALYZE {table}"))
    assert _goal_steps_read(session, lambda: goals.active_goals_with_progress(session=session, owner=student)) == 2
    assert _goal_steps_read(session, lambda: goals.goals_overview(session=session, owner=student)) == 2
    assert _goal_steps_read(session, lambda: family.shared_goals(session=session, child=student)) == 2
    assert [p.total for p in family.shared_goals(session=session, child=student)] == [2]

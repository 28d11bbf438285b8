"""Every label is written for the person reading it (issue 13): audience words, the footer, competency links."""

from html import unescape

from app.models import Audience, Role
from app.services.portfolio.goal_forms import GoalData
from app.services.portfolio.goals import create_goal
from tests.factories import (
    link_guardian, login, make_class, make_framework, make_note, make_reflection, make_school, make_user,
)


def _people(session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    maya = make_user(session, school, display_name="Maya")
    school_class = make_class(session, school, teachers=[teacher], students=[maya])
    mother = make_user(session, school, Role.guardian, display_name="Maya's mother")
    link_guardian(session, mother, maya)
    framework = make_framework(session, school, classes=[school_class])
    admin = make_user(session, school, Role.admin)
    return school, teacher, maya, mother, framework, admin


def _goal(session, owner, audience):
    data = GoalData(title="Read more", why="", success_criteria="", target_date=None, audience=audience,
                    competency_ids=set(), steps=[])
    goal = create_goal(session=session, owner=owner, data=data)
    session.commit()
    return goal


def test_audience_words_footer_and_competency_links_suit_the_reader(client, new_client, session):
    _school, teacher, maya, mother, framework, admin = _people(session)
    competency = next(c for c in _competencies(session, framework) if c.code == "COM")
    goal = _goal(session, maya, Audience.family)
    private = make_note(session, maya, title="Diary", audience=Audience.private)
    reflection = make_reflection(session, maya, title="Speaking up", audience=Audience.family,
                                 competency_ids=[competency.id])

    login(client, mother)
    goal_page = unescape(client.get(f"/goals/{goal.id}").text)
    assert "Who can see it: Family." in goal_page and "My family" not in goal_page
    assert "Your family and your teachers" not in goal_page
    reflection_page = client.get(f"/reflections/{reflection.id}").text
    assert competency.name in reflection_page and f'href="/competencies/{competency.id}"' not in reflection_page
    assert client.get(f"/competencies/{competency.id}").status_code == 403  # so no link may lead there
    home = unescape(client.get("/family").text)
    assert "your child's learning" in home and "Nothing is shared without your say" not in home

    staff = new_client()
    login(staff, teacher)
    artefact_page = unescape(staff.get(f"/artefacts/{private.id}").text)
    assert "Student and teachers" in artefact_page and ">Private<" not in artefact_page
    assert "your students' learning" in unescape(staff.get("/teacher").text)

    office = new_client()
    login(office, admin)
    assert "your students' learning" in unescape(office.get("/admin").text)

    owner = new_client()
    login(owner, maya)
    own_goal = unescape(owner.get(f"/goals/{goal.id}").text)
    assert "Who can see it: My family." in own_goal and "Your family and your teachers" in own_goal
    assert ">Private<" in owner.get(f"/artefacts/{private.id}").text
    assert f'href="/competencies/{competency.id}"' in owner.get(f"/reflections/{reflection.id}").text
    assert "Nothing is shared without your say" in unescape(owner.get("/student").text)

    visitor = new_client()
    assert "students' learning on their school's own server" in unescape(visitor.get("/login").text)


def _competencies(session, framework):
    from sqlmodel import select

    from app.models import Competency

    return session.exec(select(Competency).where(Competency.framework_id == framework.id)).all()

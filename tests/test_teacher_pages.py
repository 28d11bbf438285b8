"""The class and framework pages in daily use: one primary action each, the rest in a <details> menu, and every
destructive action (remove a student, archive, delete) reached only through a page that asks first."""

import re

from sqlmodel import select

from app.models import Competency, Enrollment, Framework, Role
from tests.factories import login, make_class, make_framework, make_school, make_user


def _header(html: str) -> str:
    """The page header: from <main> to the end of the first .page-header block's actions."""
    start = html.index('class="page-header"')
    return html[start:html.index("</div>\n</div>", start)]


def _primary_buttons(html: str) -> list[str]:
    """The primary buttons a person sees: those in closed disclosures (an "Add a level" form) are not on show."""
    shown = re.sub(r"<details(?![^>]*\bopen\b)[^>]*>.*?</details>", "", html, flags=re.S)
    return re.findall(r'class="button button--primary"[^>]*>([^<]*)<', shown)


def test_the_class_page_has_one_primary_action_and_its_others_in_a_menu(client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    student = make_user(session, school, display_name="Aroha Ngata")
    school_class = make_class(session, school, teachers=[teacher], students=[student], name="Room 9")
    login(client, teacher)
    html = client.get(f"/classes/{school_class.id}").text
    header = _header(html)
    assert _primary_buttons(html) == ["Add students"]
    # The secondary actions are links inside the header's disclosure menu, not a row of buttons.
    menu = header[header.index('<details class="menu'):]
    for path in ("overview", "grid", "conferences", "export", "settings", "prompts"):
        assert f'href="/classes/{school_class.id}/{path}"' in menu
    assert header.count('class="button') == 2  # the primary action and the menu's summary
    # Each student's actions are a row menu; removing them is a link to the page that asks, never a button here.
    remove = f"/classes/{school_class.id}/students/{student.id}/remove"
    row = html[html.index('href="/students/%d"' % student.id):]
    row = row[:row.index("</tr>")]
    assert '<details class="menu' in row and f'href="{remove}"' in row
    assert "button--danger" not in html and "button--quiet-danger" not in html
    assert f'action="{remove}"' not in html and "confirm(" not in html


def test_removing_a_student_asks_first_and_the_question_changes_nothing(client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    student = make_user(session, school, display_name="Aroha Ngata")
    school_class = make_class(session, school, teachers=[teacher], students=[student], name="Room 9")
    login(client, teacher)
    remove = f"/classes/{school_class.id}/students/{student.id}/remove"
    page = client.get(remove)
    assert page.status_code == 200 and "Remove Aroha Ngata from Room 9?" in page.text
    assert f'action="{remove}"' in page.text
    assert session.exec(select(Enrollment).where(Enrollment.class_id == school_class.id, Enrollment.user_id == student.id)).first() is not None
    assert client.post(remove).status_code == 303
    session.expire_all()
    assert session.exec(select(Enrollment).where(Enrollment.class_id == school_class.id, Enrollment.user_id == student.id)).first() is None


def test_an_archived_class_keeps_its_read_only_views_in_the_menu(client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    school_class = make_class(session, school, teachers=[teacher], name="Last year")
    school_class.archived = True
    session.add(school_class)
    session.commit()
    login(client, teacher)
    html = client.get(f"/classes/{school_class.id}").text
    assert _primary_buttons(html) == []
    assert f'href="/classes/{school_class.id}/overview"' in html and f'href="/classes/{school_class.id}/grid"' in html
    assert f'href="/classes/{school_class.id}/settings"' not in html


def test_the_framework_page_has_one_primary_action_and_asks_before_archiving_or_deleting(client, session):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    framework = make_framework(session, school)
    login(client, admin)
    base = f"/admin/frameworks/{framework.id}"
    html = client.get(base).text
    assert _primary_buttons(html) == ["Add a competency"]
    # Nothing on the page archives or deletes in one click: only links to the pages that ask.
    assert f'action="{base}/archive"' not in html and f'action="{base}/delete"' not in html
    assert not re.search(rf'action="{base}/competencies/\d+/(archive|delete)"', html)
    assert not re.search(rf'action="{base}/levels/\d+/delete"', html)
    assert f'href="{base}/archive"' in html and f'href="{base}/delete"' in html
    assert "fw-button--danger" not in html and html.count('<details class="menu') == 1 + 3 + 4  # page, rows, levels

    question = client.get(f"{base}/archive")
    assert question.status_code == 200 and "Archive “Core Competencies”?" in question.text
    session.expire_all()
    assert not session.get(Framework, framework.id).archived
    assert client.post(f"{base}/archive", data={"archived": "true"}).status_code == 303
    session.expire_all()
    assert session.get(Framework, framework.id).archived
    # Archived, the menu brings it back in one step (nothing is lost by that).
    html = client.get(base).text
    assert f'action="{base}/archive"' in html and 'name="archived" value="false"' in html


def test_archiving_a_competency_asks_first(client, session):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    framework = make_framework(session, school)
    competency = session.exec(select(Competency).where(Competency.framework_id == framework.id,
                                                       Competency.code == "COM.1")).one()
    login(client, admin)
    url = f"/admin/frameworks/{framework.id}/competencies/{competency.id}/archive"
    page = client.get(url)
    assert page.status_code == 200 and "Archive COM.1 Communicating?" in page.text and f'action="{url}"' in page.text
    session.expire_all()
    assert not session.get(Competency, competency.id).archived
    assert client.post(url, data={"archived": "true"}).status_code == 303
    session.expire_all()
    assert session.get(Competency, competency.id).archived
    # Another school's admin can't even see the question.
    other = make_user(session, make_school(session), Role.admin)
    login(client, other)
    assert client.get(url).status_code == 404


def test_the_primary_action_opens_the_add_form_without_javascript(client, session):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    framework = make_framework(session, school)
    login(client, admin)
    base = f"/admin/frameworks/{framework.id}"
    assert '<details class="card" id="add-competency">' in client.get(base).text
    assert '<details class="card" id="add-competency" open>' in client.get(f"{base}?add=competency").text
    assert '<details class="card" id="add-level" open>' in client.get(f"{base}?add=level").text
    assert client.get(f"{base}?add=%3Cscript%3E").status_code == 200


def test_the_schools_classes_page_has_one_primary_action(client, session):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    login(client, admin)
    client.post("/admin/terms", data={"school_year": "2026–27"})
    html = client.get("/admin/classes").text
    assert "Add term" in html
    assert _primary_buttons(html) == ["New class in 2026–27"]

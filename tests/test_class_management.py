"""Teachers and admins create classes, add and remove students, share join codes and choose class settings."""

from sqlmodel import select

from app.models import Artefact, Audience, ClassFramework, Enrollment, Role, SchoolClass, User
from tests.factories import login, make_class, make_framework, make_note, make_school, make_user


def _class_by_name(session, name: str) -> SchoolClass:
    return session.exec(select(SchoolClass).where(SchoolClass.name == name)).one()


def _member_ids(session, school_class: SchoolClass) -> set[int]:
    session.expire_all()
    return set(session.exec(select(Enrollment.user_id).where(Enrollment.class_id == school_class.id)).all())


def test_teacher_creates_a_class_they_then_teach(client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    login(client, teacher)
    assert 'href="/classes/new"' in client.get("/teacher").text
    assert client.post("/classes/new", data={"name": " ", "year": ""}).status_code == 422
    response = client.post("/classes/new", data={"name": "Grade 5 Room 12", "year": "2026–27", "term": "Fall"})
    assert response.status_code == 303
    school_class = _class_by_name(session, "Grade 5 Room 12")
    assert response.headers["location"] == f"/classes/{school_class.id}"
    assert school_class.term == "Fall" and len(school_class.join_code) == 6
    assert _member_ids(session, school_class) == {teacher.id}
    assert f'href="/classes/{school_class.id}"' in client.get("/teacher").text
    page = client.get(f"/classes/{school_class.id}").text
    assert school_class.join_code in page and f"/classes/{school_class.id}/settings" in page


def test_admin_creates_a_class_for_a_teacher_of_their_school_only(client, session):
    school, other_school = make_school(session), make_school(session)
    teacher, foreign_teacher = make_user(session, school, Role.teacher), make_user(session, other_school, Role.teacher)
    login(client, make_user(session, school, Role.admin))
    form = client.get("/classes/new").text
    assert teacher.display_name in form and foreign_teacher.display_name not in form
    refused = client.post("/classes/new", data={"name": "Art", "year": "2026–27", "teacher_id": str(foreign_teacher.id)})
    assert refused.status_code == 422
    assert session.exec(select(SchoolClass).where(SchoolClass.name == "Art")).first() is None
    assert client.post("/classes/new", data={"name": "Art", "year": "2026–27", "teacher_id": str(teacher.id)}).status_code == 303
    assert _member_ids(session, _class_by_name(session, "Art")) == {teacher.id}


def test_class_page_runs_the_same_number_of_queries_for_5_or_40_students(client, session, count_queries):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    small = make_class(session, school, teachers=[teacher], students=[make_user(session, school) for _ in range(5)])
    big = make_class(session, school, teachers=[teacher], students=[make_user(session, school) for _ in range(40)])
    login(client, teacher)
    counts = []
    for school_class in (small, big):
        with count_queries() as counter:
            response = client.get(f"/classes/{school_class.id}")
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]
    assert "40 students" in response.text and "/remove" in response.text and "/password" in response.text


def test_class_pages_are_for_its_teachers_and_the_schools_admin(client, session, new_client):
    school, other_school = make_school(session), make_school(session)
    teacher, student = make_user(session, school, Role.teacher), make_user(session, school)
    school_class = make_class(session, school, teachers=[teacher], students=[student])
    pages = [f"/classes/{school_class.id}", f"/classes/{school_class.id}/settings",
             f"/classes/{school_class.id}/students/new", f"/classes/{school_class.id}/students/{student.id}/remove"]
    posts = [(f"/classes/{school_class.id}/students", {"display_name": "X", "username": "sneaky"}),
             (f"/classes/{school_class.id}/students/{student.id}/remove", {}),
             (f"/classes/{school_class.id}/settings", {"classmates_see_class_items": "true"})]
    for outsider in (make_user(session, school, Role.teacher), make_user(session, other_school, Role.admin)):
        browser = new_client()
        login(browser, outsider)
        for page in pages:
            assert browser.get(page).status_code == 404, page
        for url, data in posts:
            assert browser.post(url, data=data).status_code == 404, url
    student_browser = new_client()
    login(student_browser, student)
    assert student_browser.get(pages[0]).status_code == 403
    assert student_browser.get("/classes/new").status_code == 403
    assert student_browser.post(posts[1][0]).status_code == 403
    assert _member_ids(session, school_class) == {teacher.id, student.id}
    assert session.exec(select(User).where(User.username == "sneaky")).first() is None
    admin_browser = new_client()
    login(admin_browser, make_user(session, school, Role.admin))
    assert admin_browser.get(pages[0]).status_code == 200


def test_add_one_student_shows_the_password_once_and_it_works(client, session, new_client):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    school_class = make_class(session, school, teachers=[teacher])
    login(client, teacher)
    response = client.post(f"/classes/{school_class.id}/students",
                           data={"display_name": "Maya Patel", "username": "Maya.P", "email": ""})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    maya = session.exec(select(User).where(User.username == "maya.p")).one()
    assert maya.role is Role.student and maya.school_id == school.id and maya.must_change_password is False
    assert _member_ids(session, school_class) == {teacher.id, maya.id}
    password = response.text.split('name="password" value="')[1].split('"')[0]
    assert f"<code class=\"password\">{password}</code>" in response.text
    cards = client.post(f"/classes/{school_class.id}/cards", data={"username": ["maya.p"], "password": [password]})
    assert cards.status_code == 200 and cards.headers["cache-control"] == "no-store"
    assert password in cards.text and school.name in cards.text and "http://testserver" in cards.text
    assert "site-header" not in cards.text
    student_browser = new_client()
    login(student_browser, "maya.p", password)


def test_add_one_student_validates_each_field(client, session):
    school, other_school = make_school(session), make_school(session)
    teacher = make_user(session, school, Role.teacher)
    make_user(session, other_school, username="taken")
    school_class = make_class(session, school, teachers=[teacher])
    login(client, teacher)
    for data, message in [({"display_name": "", "username": "newkid"}, "Write the student&#39;s name."),
                          ({"display_name": "Kid", "username": "a!"}, "Use 3 to 40 letters"),
                          ({"display_name": "Kid", "username": "taken"}, "is taken"),
                          ({"display_name": "Kid", "username": "newkid", "email": "nope"}, "look like an email")]:
        response = client.post(f"/classes/{school_class.id}/students", data=data)
        assert response.status_code == 422 and message in response.text, data
    assert _member_ids(session, school_class) == {teacher.id}


def test_an_admin_adds_an_existing_student_by_username_a_teacher_gives_the_join_code(client, new_client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    student = make_user(session, school, username="noah", display_name="Noah")
    school_class = make_class(session, school, teachers=[teacher])
    login(client, teacher)
    refused = client.post(f"/classes/{school_class.id}/students", data={"username": "NOAH"})
    assert refused.status_code == 422 and school_class.join_code in refused.text and "Noah" not in refused.text
    assert _member_ids(session, school_class) == {teacher.id}
    admin = new_client()
    login(admin, make_user(session, school, Role.admin))
    response = admin.post(f"/classes/{school_class.id}/students", data={"username": "NOAH"})
    assert response.status_code == 200 and "Noah" in response.text and 'name="password"' not in response.text
    assert _member_ids(session, school_class) == {teacher.id, student.id}
    session.refresh(student)
    assert student.display_name == "Noah"
    again = client.post(f"/classes/{school_class.id}/students", data={"username": "noah"})
    assert again.status_code == 422 and "already in this class" in again.text


def test_bulk_paste_creates_everyone_with_printable_cards(client, session):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    teacher = make_user(session, school, Role.teacher)
    existing = make_user(session, school, username="amara", display_name="Amara")
    school_class = make_class(session, school, teachers=[teacher])
    login(client, admin)  # an admin's list may name students already at the school
    lines = "name,username\nMaya Patel,maya\n\n Liam O'Neil , LIAM_o\n\"Chen, Wei\",wei.chen\nAmara,amara\n"
    response = client.post(f"/classes/{school_class.id}/students/bulk",
                           data={"lines": lines, "must_change_password": "true"})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    created = session.exec(select(User).where(User.username.in_(["maya", "liam_o", "wei.chen"]))).all()
    assert {u.display_name for u in created} == {"Maya Patel", "Liam O'Neil", "Chen, Wei"}
    assert all(u.must_change_password for u in created)
    assert _member_ids(session, school_class) == {teacher.id, existing.id, *(u.id for u in created)}
    assert response.text.count('name="password"') == 3 and "Print login cards" in response.text


def test_bulk_with_any_bad_row_creates_nothing_and_lists_each_problem(client, session):
    school, other_school = make_school(session), make_school(session)
    teacher = make_user(session, school, Role.teacher)
    make_user(session, other_school, username="maya")
    school_class = make_class(session, school, teachers=[teacher])
    login(client, teacher)
    lines = "name,username\nGood Kid,goodkid\n,noname\nMaya,maya\nX,no way!\nTwin,goodkid\njust-one-column\n"
    response = client.post(f"/classes/{school_class.id}/students/bulk", data={"lines": lines})
    assert response.status_code == 422
    text = response.text
    assert "Row 3: the name is empty." in text
    assert "Row 4: the username “maya” is taken." in text
    assert "Row 5: the username “no way!” can&#39;t be used" in text
    assert "Row 6: the username “goodkid” is also on row 2." in text
    assert "Row 7: write a name and a username" in text
    assert session.exec(select(User).where(User.username.in_(["goodkid", "noname"]))).first() is None
    assert _member_ids(session, school_class) == {teacher.id}


def test_bulk_upload_of_a_csv_file(client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    school_class = make_class(session, school, teachers=[teacher])
    login(client, teacher)
    url = f"/classes/{school_class.id}/students/bulk"
    content = "\ufeffname,username\r\nZoë Brontë,zoe\r\nÅsa,asa\r\n".encode()
    response = client.post(url, data={"lines": ""}, files={"file": ("roster.csv", content, "text/csv")})
    assert response.status_code == 200, response.text
    assert {u.display_name for u in session.exec(select(User).where(User.username.in_(["zoe", "asa"]))).all()} == {"Zoë Brontë", "Åsa"}
    too_big = client.post(url, files={"file": ("big.csv", b"a,b\n" * 300_000, "text/csv")})
    assert too_big.status_code == 422 and "the limit is 1 MB" in too_big.text
    too_many = "".join(f"Kid {n},kid{n}\n" for n in range(501)).encode()
    refused = client.post(url, files={"file": ("many.csv", too_many, "text/csv")})
    assert refused.status_code == 422 and "at most 500 students" in refused.text
    latin1 = client.post(url, files={"file": ("old.csv", "Zoë,zoe2\n".encode("latin-1"), "text/csv")})
    assert latin1.status_code == 422 and "UTF-8" in latin1.text
    assert session.exec(select(User).where(User.username.in_(["kid1", "zoe2"]))).first() is None


def test_student_joins_with_a_code(client, session):
    school, other_school = make_school(session), make_school(session)
    student = make_user(session, school)
    school_class = make_class(session, school, name="Science 7")
    foreign = make_class(session, other_school)
    archived = make_class(session, school)
    archived.archived = True
    session.add(archived)
    session.commit()
    login(client, student)
    assert client.get("/classes/join").status_code == 200
    for code in ("NOPE42", foreign.join_code, archived.join_code, ""):
        response = client.post("/classes/join", data={"code": code})
        assert response.status_code == 422 and "No class has that code" in response.text
    code = school_class.join_code.lower()
    spaced = f" {code[:3]} {code[3:]} "
    assert client.post("/classes/join", data={"code": spaced}).status_code == 303
    assert student.id in _member_ids(session, school_class)
    again = client.post("/classes/join", data={"code": school_class.join_code})
    assert again.status_code == 303
    assert "already in Science 7" in client.get(again.headers["location"]).text
    assert _member_ids(session, foreign) == set() and _member_ids(session, archived) == set()


def _guess_until_refused(browser, most: int) -> int:
    """Wrong join codes until the answer is 429; how many were answered 422 first (fails after `most`)."""
    for n in range(most + 1):
        response = browser.post("/classes/join", data={"code": f"WR{n:04d}"})
        if response.status_code == 429:
            return n
        assert response.status_code == 422
    raise AssertionError(f"{most + 1} wrong join codes and still no 429")


def test_wrong_join_codes_are_throttled_per_student(client_from, session):
    school = make_school(session)
    school_class = make_class(session, school, name="Science 7")
    guesser, classmate = make_user(session, school), make_user(session, school)
    browser = client_from("203.0.113.5")
    login(browser, guesser)
    allowed = _guess_until_refused(browser, most=20)
    assert allowed >= 5  # room for typos copying a code off the board
    refused = browser.post("/classes/join", data={"code": "WRONG1"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Too many codes" in refused.text and 'id="code-error"' in refused.text
    # Even the right code waits, or guessing could go on; nothing changes.
    assert browser.post("/classes/join", data={"code": school_class.join_code}).status_code == 429
    assert guesser.id not in _member_ids(session, school_class)
    # In French too.
    french = browser.post("/classes/join", data={"code": "WRONG1"}, headers={"Accept-Language": "fr"})
    assert french.status_code == 429 and "Too many codes" not in french.text
    # Signing in again elsewhere doesn't reset the count: it belongs to the account.
    elsewhere = client_from("198.51.100.7")
    login(elsewhere, guesser)
    assert elsewhere.post("/classes/join", data={"code": school_class.join_code}).status_code == 429
    # A classmate, from another address, joins as usual.
    other = client_from("192.0.2.20")
    login(other, classmate)
    assert other.post("/classes/join", data={"code": school_class.join_code}).status_code == 303
    assert classmate.id in _member_ids(session, school_class)


def test_wrong_join_codes_are_throttled_per_address(client_from, session):
    school = make_school(session)
    school_class = make_class(session, school)
    students = [make_user(session, school) for _ in range(5)]
    limit = 8
    # Many students, each under their own limit, guessing from one address.
    guesses = 0
    for student in students[:4]:
        browser = client_from("203.0.113.5", login_max_failures_per_address=limit)
        login(browser, student)
        for _ in range(2):
            assert browser.post("/classes/join", data={"code": f"WR{guesses:04d}"}).status_code == 422
            guesses += 1
    latecomer = client_from("203.0.113.5", login_max_failures_per_address=limit)
    login(latecomer, students[4])
    refused = latecomer.post("/classes/join", data={"code": school_class.join_code})
    assert refused.status_code == 429 and "Too many codes" in refused.text
    # The same student from another address joins.
    elsewhere = client_from("198.51.100.7", login_max_failures_per_address=limit)
    login(elsewhere, students[4])
    assert elsewhere.post("/classes/join", data={"code": school_class.join_code}).status_code == 303


def test_staff_cannot_use_the_join_form(client, session):
    school = make_school(session)
    school_class = make_class(session, school)
    login(client, make_user(session, school, Role.teacher))
    assert client.post("/classes/join", data={"code": school_class.join_code}).status_code == 403


def test_removing_a_student_keeps_their_portfolio(client, session):
    school = make_school(session)
    teacher, student = make_user(session, school, Role.teacher), make_user(session, school)
    school_class = make_class(session, school, teachers=[teacher], students=[student])
    note = make_note(session, student, title="My bridge")
    login(client, teacher)
    confirm = client.get(f"/classes/{school_class.id}/students/{student.id}/remove")
    assert confirm.status_code == 200 and student.display_name in confirm.text
    assert client.post(f"/classes/{school_class.id}/students/{student.id}/remove").status_code == 303
    assert _member_ids(session, school_class) == {teacher.id}
    assert session.get(User, student.id) is not None and session.get(Artefact, note.id).title == "My bridge"
    assert client.post(f"/classes/{school_class.id}/students/{student.id}/remove").status_code == 404
    assert client.post(f"/classes/{school_class.id}/students/{teacher.id}/remove").status_code == 404


def test_class_settings_save_frameworks_and_switches(client, session):
    school, other_school = make_school(session), make_school(session)
    teacher = make_user(session, school, Role.teacher)
    school_class = make_class(session, school, teachers=[teacher])
    used, unused = make_framework(session, school, name="Core"), make_framework(session, school, name="Math")
    archived = make_framework(session, school, name="Old", classes=[school_class])
    archived.archived = True
    session.add(archived)
    foreign = make_framework(session, other_school, name="Foreign")
    session.commit()
    login(client, teacher)
    page = client.get(f"/classes/{school_class.id}/settings").text
    assert "Core" in page and "Math" in page and "Old" not in page and "Foreign" not in page
    response = client.post(f"/classes/{school_class.id}/settings", data={
        "framework_ids": [str(used.id), str(foreign.id)], "family_items_need_approval": "true"})
    assert response.status_code == 303
    session.expire_all()
    linked = set(session.exec(select(ClassFramework.framework_id).where(ClassFramework.class_id == school_class.id)).all())
    assert linked == {used.id, archived.id}
    school_class = session.get(SchoolClass, school_class.id)
    assert (school_class.classmates_see_class_items, school_class.peer_comments_need_approval,
            school_class.family_items_need_approval) == (False, False, True)
    assert unused.id not in linked


def test_classmates_see_class_items_only_when_the_class_allows_it(client, session, new_client):
    school = make_school(session)
    teacher, owner, classmate = make_user(session, school, Role.teacher), make_user(session, school), make_user(session, school)
    school_class = make_class(session, school, teachers=[teacher], students=[owner, classmate])
    note = make_note(session, owner, audience=Audience.class_)
    login(client, classmate)
    assert client.get(f"/artefacts/{note.id}").status_code == 200
    teacher_browser = new_client()
    login(teacher_browser, teacher)
    teacher_browser.post(f"/classes/{school_class.id}/settings", data={})
    assert client.get(f"/artefacts/{note.id}").status_code == 404
    assert teacher_browser.get(f"/artefacts/{note.id}").status_code == 200
    teacher_browser.post(f"/classes/{school_class.id}/settings", data={"classmates_see_class_items": "true"})
    assert client.get(f"/artefacts/{note.id}").status_code == 200

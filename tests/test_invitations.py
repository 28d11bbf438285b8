"""Family invitations: staff make single-use codes; families redeem them into a new or existing family account."""

import re
from html import unescape
from datetime import timedelta

from sqlmodel import func, select

from app.models import FamilyInvitation, GuardianLink, LoginFailure, Notification, NotificationKind, Role, User
from app.models.base import utcnow
from app.services.family import invitations
from tests.factories import PASSWORD, link_guardian, login, make_class, make_school, make_user

CODE = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")


def _setup(session):
    """A school with Ms Rivera teaching Maya and Leo (siblings), an admin, and another school's admin."""
    school = make_school(session, "Riverside School")
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    maya = make_user(session, school, display_name="Maya")
    leo = make_user(session, school, display_name="Leo")
    make_class(session, school, teachers=[teacher], students=[maya, leo])
    admin = make_user(session, school, Role.admin)
    return school, teacher, maya, leo, admin


def _invite(client, student) -> str:
    """Create an invitation through the page and return the printed code."""
    response = client.post(f"/students/{student.id}/invitations")
    assert response.status_code == 200, response.text
    match = CODE.search(response.text)
    assert match, "the printable page shows the code"
    return match.group(0)


def _new_account(code: str, username: str = "mayasmum", **overrides) -> dict:
    data = {"code": code, "action": "create", "display_name": "Maya's mother", "username": username,
            "email": "", "password": "a-long-password", "confirm": "a-long-password"}
    data.update(overrides)
    return data


def _counts(session) -> tuple[int, int]:
    session.expire_all()
    users = session.exec(select(func.count()).select_from(User).where(User.role == Role.guardian)).one()
    links = session.exec(select(func.count()).select_from(GuardianLink)).one()
    return users, links


def test_a_teacher_creates_a_printable_invitation_stored_only_as_a_hash(client, session):
    _school, teacher, maya, _leo, _admin = _setup(session)
    login(client, teacher)
    response = client.post(f"/students/{maya.id}/invitations")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    code = CODE.search(page).group(0)
    assert "Maya" in page and "Riverside School" in page
    assert f"http://testserver/invite?code={code}" in page
    assert "<script" not in page.split("</head>")[1] and "onclick" not in page
    invitation = session.exec(select(FamilyInvitation)).one()
    plain = code.replace("-", "")
    assert invitation.code_hash == invitations.code_hash(plain) and plain not in invitation.code_hash
    assert all(ch in invitations.CODE_ALPHABET for ch in plain)
    assert invitation.student_id == maya.id and invitation.created_by_id == teacher.id
    assert timedelta(days=13, hours=23) < invitation.expires_at - utcnow() <= timedelta(days=14)
    # The family page lists it (no code), and it can be revoked there.
    family_page = client.get(f"/students/{maya.id}/family").text
    assert code not in family_page and "Cancel invitation" in family_page


def test_only_the_students_teachers_and_school_admins_may_invite(client, new_client, session):
    school, _teacher, maya, _leo, admin = _setup(session)
    other_teacher = make_user(session, school, Role.teacher)
    make_class(session, school, teachers=[other_teacher])
    elsewhere = make_school(session)
    other_admin = make_user(session, elsewhere, Role.admin)
    guardian = make_user(session, school, Role.guardian)
    link_guardian(session, guardian, maya)
    for user in (other_teacher, other_admin, guardian, maya):
        browser = new_client()
        login(browser, user)
        assert browser.post(f"/students/{maya.id}/invitations").status_code == 404
        assert browser.get(f"/students/{maya.id}/family").status_code == 404
    assert session.exec(select(FamilyInvitation)).first() is None
    login(client, admin)
    assert client.get(f"/students/{maya.id}/family").status_code == 200
    _invite(client, maya)
    # Nor may anyone else revoke it.
    invitation = session.exec(select(FamilyInvitation)).one()
    browser = new_client()
    login(browser, other_teacher)
    assert browser.post(f"/students/{maya.id}/invitations/{invitation.id}/revoke").status_code == 404
    session.expire_all()
    assert session.get(FamilyInvitation, invitation.id).revoked_at is None


def test_the_teachers_student_page_links_to_family_access(client, session):
    _school, teacher, maya, _leo, _admin = _setup(session)
    login(client, teacher)
    assert f'href="/students/{maya.id}/family"' in client.get(f"/students/{maya.id}").text


def test_two_racing_redemptions_cannot_both_win(app, session):
    from sqlmodel import Session

    school, teacher, maya, _leo, _admin = _setup(session)
    first = make_user(session, school, Role.guardian)
    second = make_user(session, school, Role.guardian)
    invitation, code = invitations.create_invitation(session=session, staff=teacher, student=maya, settings=app.state.settings,
                                                     address=None)
    session.commit()
    with Session(app.state.engine, expire_on_commit=False) as one, Session(app.state.engine, expire_on_commit=False) as two:
        # Both checked the code while it was still unused...
        seen_one, problem_one = invitations.invitation_for_code(session=one, code=code)
        seen_two, problem_two = invitations.invitation_for_code(session=two, code=code)
        assert problem_one is None and problem_two is None
        won = invitations.redeem(session=one, invitation=seen_one, guardian=one.get(User, first.id), address=None)
        assert won is not None
        one.commit()
        # ...but only the first claim counts.
        assert invitations.redeem(session=two, invitation=seen_two, guardian=two.get(User, second.id), address=None) is None
        two.rollback()
    session.expire_all()
    links = session.exec(select(GuardianLink)).all()
    assert [(link.guardian_id, link.student_id) for link in links] == [(first.id, maya.id)]
    assert session.get(FamilyInvitation, invitation.id).used_by_id == first.id


def test_redeeming_creates_a_family_account_signs_in_and_notifies_the_child(client, new_client, session):
    _school, teacher, maya, _leo, _admin = _setup(session)
    login(client, teacher)
    code = _invite(client, maya)
    family = new_client()
    assert CODE.search(family.get(f"/invite?code={code}").text)
    # Typed in lower case with spaces: still the same code.
    typed = code.lower().replace("-", " ")
    response = family.post("/invite", data=_new_account(typed))
    assert response.status_code == 303 and response.headers["location"] == "/family"
    guardian = session.exec(select(User).where(User.username == "mayasmum")).one()
    assert guardian.role is Role.guardian and guardian.school_id == maya.school_id
    assert session.exec(select(GuardianLink).where(GuardianLink.guardian_id == guardian.id)).one().student_id == maya.id
    invitation = session.exec(select(FamilyInvitation)).one()
    assert invitation.used_at is not None and invitation.used_by_id == guardian.id
    note = session.exec(select(Notification).where(Notification.user_id == maya.id)).one()
    assert note.kind is NotificationKind.guardian_linked and note.link == "/my-family"
    assert note.params["name"] == "Maya's mother"
    home = family.get("/family")
    assert home.status_code == 200 and "Maya" in home.text


def test_a_code_works_once(client, new_client, session):
    _school, teacher, maya, _leo, _admin = _setup(session)
    login(client, teacher)
    code = _invite(client, maya)
    assert new_client().post("/invite", data=_new_account(code)).status_code == 303
    before = _counts(session)
    second = new_client().post("/invite", data=_new_account(code, username="someoneelse"))
    assert second.status_code == 422 and "already been used" in second.text
    assert _counts(session) == before


def test_expired_revoked_and_wrong_codes_are_refused_and_change_nothing(client, new_client, session):
    _school, teacher, maya, _leo, _admin = _setup(session)
    login(client, teacher)
    expired_code = _invite(client, maya)
    expired = session.exec(select(FamilyInvitation)).one()
    expired.expires_at = utcnow() - timedelta(minutes=1)
    session.add(expired)
    session.commit()
    revoked_code = _invite(client, maya)
    revoked = session.exec(select(FamilyInvitation).where(FamilyInvitation.id != expired.id)).one()
    assert client.post(f"/students/{maya.id}/invitations/{revoked.id}/revoke").status_code == 303
    session.expire_all()
    assert session.get(FamilyInvitation, revoked.id).revoked_at is not None

    family = new_client()
    cases = [(expired_code, "expired"), (revoked_code, "cancelled"), ("ABCD-EFGH-JKMN", "recognise"), ("", "Enter the code")]
    for code, words in cases:
        response = family.post("/invite", data=_new_account(code))
        assert response.status_code == 422, code
        assert words in response.text
        assert 'id="code-error"' in response.text
    assert _counts(session) == (0, 0)
    assert session.exec(select(User).where(User.username == "mayasmum")).first() is None
    session.expire_all()
    assert all(i.used_at is None for i in session.exec(select(FamilyInvitation)).all())


def test_bad_account_fields_are_shown_beside_them_and_the_code_stays_unused(client, new_client, session):
    _school, teacher, maya, _leo, _admin = _setup(session)
    login(client, teacher)
    code = _invite(client, maya)
    family = new_client()
    response = family.post("/invite", data=_new_account(code, username=maya.username, password="short", confirm="short"))
    assert response.status_code == 422
    assert 'id="username-error"' in response.text and 'id="password-error"' in response.text
    mismatch = family.post("/invite", data=_new_account(code, confirm="something-else"))
    assert mismatch.status_code == 422 and "don't match" in unescape(mismatch.text)
    assert _counts(session) == (0, 0)
    assert session.exec(select(FamilyInvitation)).one().used_at is None


def test_an_existing_family_account_links_a_sibling_to_the_same_login(client, new_client, session):
    _school, teacher, maya, leo, _admin = _setup(session)
    login(client, teacher)
    first, second = _invite(client, maya), _invite(client, leo)
    family = new_client()
    assert family.post("/invite", data=_new_account(first)).status_code == 303
    # Another day, another browser: "I already have a family account".
    later = new_client()
    response = later.post("/invite", data={"code": second, "action": "existing", "identifier": "mayasmum",
                                           "current_password": "a-long-password"})
    assert response.status_code == 303 and response.headers["location"] == "/family"
    guardian = session.exec(select(User).where(User.username == "mayasmum")).one()
    assert _counts(session) == (1, 2)
    linked = set(session.exec(select(GuardianLink.student_id).where(GuardianLink.guardian_id == guardian.id)).all())
    assert linked == {maya.id, leo.id}
    home = later.get("/family").text
    assert "Maya" in home and "Leo" in home


def test_a_signed_in_guardian_links_with_one_click_and_an_existing_link_is_not_doubled(client, new_client, session):
    school, teacher, maya, leo, _admin = _setup(session)
    guardian = make_user(session, school, Role.guardian, display_name="Dad")
    link_guardian(session, guardian, maya)
    login(client, teacher)
    for_leo, for_maya = _invite(client, leo), _invite(client, maya)
    family = new_client()
    login(family, guardian)
    page = family.get(f"/invite?code={for_leo}").text
    assert "Link to my account" in page and "Create a family account" not in page
    assert family.post("/invite", data={"code": for_leo, "action": "link"}).status_code == 303
    again = family.post("/invite", data={"code": for_maya, "action": "link"}, follow_redirects=True)
    assert again.status_code == 200 and "already linked" in again.text
    assert _counts(session) == (1, 2)
    session.expire_all()
    unused = session.exec(select(FamilyInvitation).where(FamilyInvitation.student_id == maya.id)).one()
    assert unused.used_at is None  # kept for another member of the family


def test_student_and_teacher_accounts_cannot_redeem(client, new_client, session):
    _school, teacher, maya, leo, _admin = _setup(session)
    login(client, teacher)
    code = _invite(client, maya)
    # Signing in with a student's (or teacher's) username and password is refused.
    for user in (leo, teacher):
        response = new_client().post("/invite", data={"code": code, "action": "existing", "identifier": user.username,
                                                      "current_password": PASSWORD})
        assert response.status_code == 422 and "isn't a family account" in unescape(response.text)
    # Signed in as a student, the page and the form refuse too.
    student = new_client()
    login(student, leo)
    assert "isn't a family account" in unescape(student.get(f"/invite?code={code}").text)
    assert student.post("/invite", data={"code": code, "action": "link"}).status_code == 422
    assert student.post("/invite", data=_new_account(code)).status_code == 422
    assert session.exec(select(GuardianLink)).first() is None
    session.expire_all()
    assert session.exec(select(FamilyInvitation)).one().used_at is None


def test_a_wrong_password_for_an_existing_account_is_refused(client, new_client, session):
    school, teacher, maya, _leo, _admin = _setup(session)
    guardian = make_user(session, school, Role.guardian)
    login(client, teacher)
    code = _invite(client, maya)
    response = new_client().post("/invite", data={"code": code, "action": "existing", "identifier": guardian.username,
                                                  "current_password": "wrong-password"})
    assert response.status_code == 422 and 'id="current_password-error"' in response.text
    assert session.exec(select(GuardianLink)).first() is None


def test_many_wrong_codes_from_one_address_are_throttled(client, client_from, session):
    _school, teacher, maya, _leo, _admin = _setup(session)
    login(client, teacher)
    code = _invite(client, maya)
    family = client_from("203.0.113.5", login_max_failures_per_address=6)
    for n in range(6):
        assert family.post("/invite", data=_new_account(f"ABCD-EFGH-JK{n:02d}")).status_code == 422
    assert session.exec(select(func.count()).select_from(LoginFailure)).one() == 6
    # Now even the right code waits: guessing can't go on.
    response = family.post("/invite", data=_new_account(code))
    assert response.status_code == 429 and "Too many codes" in response.text
    assert response.headers["retry-after"]
    assert _counts(session) == (0, 0)
    # Another family, elsewhere, is not held up.
    elsewhere = client_from("198.51.100.7", login_max_failures_per_address=6)
    assert elsewhere.post("/invite", data=_new_account(code)).status_code == 303
    assert _counts(session) == (1, 1)


def _field_errors(html: str) -> dict[str, str]:
    return {m.group(1): unescape(re.sub(r"<[^>]+>", "", m.group(2))).strip()
            for m in re.finditer(r'id="([a-z_]+)-error"[^>]*>(.*?)</p>', html, re.S)}


def test_a_wrong_or_empty_code_says_nothing_about_accounts_and_counts_toward_the_throttle(client_from, session):
    school, *_ = _setup(session)
    make_user(session, school, Role.teacher, username="teacher", email="teacher@school.example")
    family = client_from("203.0.113.5", login_max_failures_per_address=8)
    taken = {"username": "teacher", "email": "teacher@school.example"}
    free = {"username": "nobody-here", "email": "nobody@home.example"}
    for code in ("", "ABCD-EFGH-JKMN"):
        answers = []
        for fields in (taken, free):
            response = family.post("/invite", data=_new_account(code, **fields))
            assert response.status_code == 422
            assert "taken" not in response.text and "Another account" not in response.text
            answers.append(_field_errors(response.text))
        # Only the code is judged, so the answer is the same whether or not the account exists.
        assert answers[0] == answers[1] and set(answers[0]) == {"code"}
    # Empty codes count too: four failures so far.
    assert session.exec(select(func.count()).select_from(LoginFailure)).one() == 4
    for n in range(4):
        family.post("/invite", data=_new_account("", **(taken if n % 2 else free)))
    blocked = [family.post("/invite", data=_new_account(code, **fields)) for code in ("", "ABCD-EFGH-JKMN")
               for fields in (taken, free)]
    assert {r.status_code for r in blocked} == {429}
    assert len({tuple(sorted(_field_errors(r.text).items())) for r in blocked}) == 1
    assert all("taken" not in r.text for r in blocked)
    assert _counts(session) == (0, 0)


def test_a_new_family_account_meets_the_same_name_username_and_email_rules_as_other_accounts(client, new_client,
                                                                                             session):
    _school, teacher, maya, _leo, _admin = _setup(session)
    login(client, teacher)
    code = _invite(client, maya)
    family = new_client()
    response = family.post("/invite", data=_new_account(code, username="M!", display_name=" ", email="not-an-address"))
    assert response.status_code == 422
    assert _field_errors(response.text) == {
        "display_name": "Error: Write your name, as your child's teachers will see it.",
        "username": "Error: Use 3 to 40 letters, digits, dots, dashes or underscores.",
        "email": "Error: That doesn't look like an email address."}
    too_long = family.post("/invite", data=_new_account(code, display_name="x" * 201))
    assert _field_errors(too_long.text) == {"display_name": "Error: Keep the name under 200 characters."}
    assert _counts(session) == (0, 0)  # nothing made

"""The account page's "Email and updates" form, and notifications sent by email to those who chose it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.models import Notification, NotificationKind, Role
from app.services.moderation import email_notifications
from app.services.moderation.notifications import notify
from tests.conftest import make_settings
from tests.factories import login, make_school, make_user
from tests.test_mail import parts, smtp_server  # noqa: F401 - the SMTP server fixture


@pytest.fixture
def inbox(smtp_server):  # noqa: F811
    return smtp_server[0]


@pytest.fixture
def settings(tmp_path, database_url, smtp_server):  # noqa: F811
    _inbox, port = smtp_server
    return make_settings(tmp_path, database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")


def _reload(session, user):
    session.expire_all()
    return session.get(type(user), user.id)


# --- the form -----------------------------------------------------------------------------------------


def test_everyone_can_save_an_email_address_and_choose_notification_emails(client, session):
    student = make_user(session, make_school(session))
    login(client, student)
    page = client.get("/account")
    assert page.status_code == 200
    assert "Email and updates" in page.text and 'name="email_notifications"' in page.text
    assert 'name="digest_frequency"' not in page.text  # digests are for families
    assert "doesn't send email yet" not in page.text  # this server has mail settings

    response = client.post("/account/notifications", data={"email": "  Maya.Chen@Example.ORG ", "email_notifications": "1"})
    assert response.status_code == 303 and response.headers["location"] == "/account"
    student = _reload(session, student)
    assert student.email == "maya.chen@example.org" and student.email_notifications is True
    page = client.get("/account")
    assert 'value="maya.chen@example.org"' in page.text and "checked" in page.text

    assert client.post("/account/notifications", data={"email": ""}).status_code == 303
    student = _reload(session, student)
    assert student.email is None and student.email_notifications is False


@pytest.mark.parametrize("bad, message", [
    ("not-an-address", "Enter an email address like name@example.org."),
    ("two@@example.org", "Enter an email address like name@example.org."),
    ("a@" + "x" * 260 + ".org", "Use at most 254 characters."),
])
def test_a_bad_email_address_is_refused_beside_the_field(client, session, bad, message):
    student = make_user(session, make_school(session), email="keep@example.org")
    login(client, student)
    response = client.post("/account/notifications", data={"email": bad, "email_notifications": "1"})
    assert response.status_code == 422
    assert 'id="email-error"' in response.text and message in response.text
    assert 'aria-invalid="true"' in response.text
    student = _reload(session, student)
    assert student.email == "keep@example.org" and student.email_notifications is False


def test_an_email_address_used_by_another_account_is_refused(client, session):
    school = make_school(session)
    make_user(session, school, email="taken@example.org")
    teacher = make_user(session, school, Role.teacher)
    login(client, teacher)
    response = client.post("/account/notifications", data={"email": "Taken@Example.org"})
    assert response.status_code == 422 and "Another account already uses this email address." in response.text
    assert _reload(session, teacher).email is None
    # Keeping your own address is fine.
    assert client.post("/account/notifications", data={"email": "mine@example.org"}).status_code == 303
    assert client.post("/account/notifications", data={"email": "MINE@example.org"}).status_code == 303


def test_notification_emails_need_an_address(client, session):
    student = make_user(session, make_school(session))
    login(client, student)
    response = client.post("/account/notifications", data={"email": "", "email_notifications": "1"})
    assert response.status_code == 422 and "Add your email address" in response.text
    assert _reload(session, student).email_notifications is False


def test_guardians_choose_how_often_the_digest_comes(client, session):
    guardian = make_user(session, make_school(session), Role.guardian)
    login(client, guardian)
    page = client.get("/account")
    for value in ("weekly", "daily", "off"):
        assert f'id="digest_frequency-{value}"' in page.text
    assert 'value="weekly" aria-describedby="digest_frequency-weekly-hint" checked' in page.text
    assert 'href="/family/digest"' in page.text

    assert client.post("/account/notifications", data={"email": "g@example.org", "digest_frequency": "daily"}).status_code == 303
    guardian = _reload(session, guardian)
    assert (guardian.digest_frequency, guardian.email) == ("daily", "g@example.org")

    response = client.post("/account/notifications", data={"email": "new@example.org", "digest_frequency": "hourly"})
    assert response.status_code == 422
    assert 'id="digest_frequency-error"' in response.text and "weekly, daily or off" in response.text
    guardian = _reload(session, guardian)
    assert (guardian.digest_frequency, guardian.email) == ("daily", "g@example.org")  # nothing saved

    assert client.post("/account/notifications", data={"email": "g@example.org", "digest_frequency": "off"}).status_code == 303
    assert _reload(session, guardian).digest_frequency == "off"


def test_a_student_cannot_set_a_digest_frequency(client, session):
    student = make_user(session, make_school(session))
    login(client, student)
    assert client.post("/account/notifications", data={"email": "s@example.org", "digest_frequency": "off"}).status_code == 303
    assert client.post("/account/notifications", data={"email": "s@example.org", "digest_frequency": "nonsense"}).status_code == 303
    assert _reload(session, student).digest_frequency == "weekly"


def test_the_page_says_when_this_folio_sends_no_email(client, session, app):
    app.state.settings = app.state.settings.model_copy(update={"smtp_host": ""})
    user = make_user(session, make_school(session))
    login(client, user)
    assert "This Folio doesn't send email yet" in client.get("/account").text


def test_the_language_form_still_works_beside_it(client, session):
    user = make_user(session, make_school(session))
    login(client, user)
    response = client.post("/account/language", data={"locale": "xx"})
    assert response.status_code == 422 and "Email and updates" in response.text


# --- notification emails ------------------------------------------------------------------------------


def test_opted_in_users_get_each_notification_once_by_email(client, session, settings, inbox):
    school = make_school(session)
    keen = make_user(session, school, display_name="Keen", email="keen@example.org")
    quiet = make_user(session, school, display_name="Quiet", email="quiet@example.org")
    notify(session=session, user_id=keen.id, kind=NotificationKind.item_approved, link="/artefacts/1", title="Old news")
    session.commit()

    login(client, keen)
    assert client.post("/account/notifications", data={"email": "keen@example.org", "email_notifications": "1"}).status_code == 303
    for user in (keen, quiet):
        notify(session=session, user_id=user.id, kind=NotificationKind.feedback_received, link="/artefacts/7",
               name="Ms Rivera", title="My <poster>")
    notify(session=session, user_id=keen.id, kind=NotificationKind.item_returned, link="/goals/3", title="A goal")
    session.commit()

    report = email_notifications.send_pending(session=session, settings=settings)
    assert (report.sent, report.failed) == (2, 0)
    messages = inbox.to("keen@example.org")
    assert len(messages) == 2 and inbox.to("quiet@example.org") == []
    subjects = sorted(m["Subject"] for m in messages)
    assert subjects == ["Folio: Ms Rivera left feedback on “My <poster>”.", "Folio: “A goal” was returned to you."]
    feedback = next(m for m in messages if "feedback" in m["Subject"])
    text, html = parts(feedback)
    assert "Ms Rivera left feedback on “My <poster>”." in text and "http://testserver/artefacts/7" in text
    assert "My &lt;poster&gt;" in html and 'href="http://testserver/artefacts/7"' in html
    assert "Old news" not in "".join(m["Subject"] for m in messages)  # what was there before opting in

    assert email_notifications.send_pending(session=session, settings=settings).sent == 0
    assert len(inbox.received) == 2
    emailed = session.exec(select(Notification).where(Notification.user_id == keen.id)).all()
    assert all(n.emailed_at is not None for n in emailed)
    assert all(n.emailed_at is None for n in session.exec(select(Notification).where(Notification.user_id == quiet.id)))


def test_a_failed_notification_email_is_tried_again(session, settings, inbox):
    school = make_school(session)
    user = make_user(session, school, email="flaky@example.org")
    user.email_notifications = True
    session.add(user)
    notify(session=session, user_id=user.id, kind=NotificationKind.item_approved, link="/artefacts/1", title="Poster")
    session.commit()
    inbox.refuse.add("flaky@example.org")
    assert email_notifications.send_pending(session=session, settings=settings).failed == 1
    assert session.exec(select(Notification)).one().emailed_at is None
    inbox.refuse.clear()
    assert email_notifications.send_pending(session=session, settings=settings).sent == 1
    assert len(inbox.to("flaky@example.org")) == 1


def test_notification_emails_use_the_readers_language(session, settings, inbox, monkeypatch):
    from app import i18n

    user = make_user(session, make_school(session), email="es@example.org")
    user.email_notifications, user.locale = True, "es"
    session.add(user)
    notify(session=session, user_id=user.id, kind=NotificationKind.item_approved, link="/artefacts/1", title="Póster")
    session.commit()
    seen: list[str] = []
    original = i18n.translations_for
    monkeypatch.setattr(i18n, "translations_for", lambda locale: seen.append(locale) or original(locale))
    email_notifications.send_pending(session=session, settings=settings)
    (message,) = inbox.to("es@example.org")
    assert '<html lang="es">' in parts(message)[1]
    assert "es" in seen and i18n.get_locale() != "es"

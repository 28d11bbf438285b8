"""Notifications: the header count, the list, marking read, and nobody else's."""

from sqlmodel import select

from app.models import Notification, NotificationKind, Role
from app.services.moderation.notifications import notify
from tests.factories import login, make_school, make_user


def test_count_in_header_list_and_mark_read(client, session):
    student = make_user(session, make_school(session))
    notify(session=session, user_id=student.id, kind=NotificationKind.feedback_received, link="/student",
           name="Ms Shah", title="Volcano poster")
    notify(session=session, user_id=student.id, kind=NotificationKind.item_approved, link="/artefacts", title="Bridge")
    session.commit()
    login(client, student)
    home = client.get("/student").text
    assert 'class="notification-count">2<span class="visually-hidden"> unread</span>' in home
    badge = client.get("/notifications/count", headers={"HX-Request": "true"})
    assert badge.text.strip().startswith('<a href="/notifications" id="notification-link"') and ">2<" in badge.text
    listing = client.get("/notifications").text
    assert "Ms Shah left feedback on “Volcano poster”." in listing and "“Bridge” was approved." in listing
    first = session.exec(select(Notification).where(Notification.kind == NotificationKind.feedback_received)).one()
    opened = client.post(f"/notifications/{first.id}/read")
    assert opened.status_code == 303 and opened.headers["location"] == "/student"
    assert ">1<" in client.get("/notifications/count").text
    client.post("/notifications/read")
    assert "notification-count" not in client.get("/notifications/count").text


def test_nobody_reads_anothers_notifications(client, session):
    school = make_school(session)
    owner, other = make_user(session, school), make_user(session, school, Role.teacher)
    note = notify(session=session, user_id=owner.id, kind=NotificationKind.request_received, link="/x", name="A", title="B")
    session.commit()
    login(client, other)
    assert client.post(f"/notifications/{note.id}/read").status_code == 404
    assert "B”" not in client.get("/notifications").text
    session.refresh(note)
    assert note.read_at is None


def test_notification_links_never_leave_the_site(client, session):
    student = make_user(session, make_school(session))
    note = notify(session=session, user_id=student.id, kind=NotificationKind.item_returned, link="//evil.example/", title="X")
    session.commit()
    login(client, student)
    assert client.post(f"/notifications/{note.id}/read").headers["location"] == "/notifications"

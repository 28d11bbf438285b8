"""One date style per kind of value, through Babel (issue 13: "12/7/26, 4:23 AM" beside "Dec 7, 2026")."""

import re
from datetime import UTC, date, datetime

from sqlmodel import select

from app import dates, i18n
from app.models import Notification, NotificationKind, Role
from app.services.moderation.notifications import notify
from tests.factories import login, make_note, make_school, make_user

NUMERIC_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")


def test_days_moments_and_appointments_each_have_one_style_in_every_language():
    when = datetime(2026, 12, 7, 4, 23, tzinfo=UTC)
    i18n.set_locale("en")
    assert dates.day(date(2026, 12, 7)) == "Dec 7, 2026"
    assert dates.day(when) == "Dec 7, 2026"
    assert dates.moment(when) == "Dec 7, 2026, 4:23\u202fAM"
    assert dates.moment(when, timezone="America/Vancouver") == "Dec 6, 2026, 8:23\u202fPM"
    assert dates.day(datetime(2026, 12, 7, 4, 23), timezone="America/Vancouver") == "Dec 6, 2026"  # naive is UTC
    assert dates.appointment(when, timezone="UTC") == "Monday, December 7, 2026, 4:23\u202fAM"
    assert dates.day(None) == "" and dates.moment(None) == ""
    i18n.set_locale("es")
    assert dates.day(date(2026, 12, 7)) == "7 dic 2026"
    assert dates.moment(when).startswith("7 dic 2026, 4:23")
    i18n.set_locale("en")


def test_pages_show_days_and_moments_in_the_same_named_month_style(client, session, settings):
    school = make_school(session)
    student = make_user(session, school)
    make_note(session, student, title="Poster", occurred_on=date(2026, 3, 4))
    notify(session=session, user_id=student.id, kind=NotificationKind.item_approved, link="/artefacts", title="Bridge")
    session.commit()
    login(client, student)
    created = session.exec(select(Notification)).one().created_at
    listing = client.get("/notifications").text
    assert not NUMERIC_DATE.search(listing), NUMERIC_DATE.search(listing)
    assert dates.moment(created, timezone=settings.timezone).replace("\u202f", " ") in \
        listing.replace("\u202f", " ").replace("&#8239;", " ")
    assert "Mar 4, 2026" in client.get("/student").text

    admin = make_user(session, school, Role.admin)
    client.cookies.clear()
    login(client, admin)
    audit = client.get("/admin/audit").text
    assert not NUMERIC_DATE.search(audit), NUMERIC_DATE.search(audit)

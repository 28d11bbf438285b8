"""Student-led conferences: the class's conference page, scheduling in the school's time zone, changing and
cancelling slots, notifications, and everyone's own conferences page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from app.models import (
    Audience, ConferenceInvite, ConferenceSlot, Notification, NotificationKind, Role, Showcase,
)
from app.models.base import utcnow
from app.services.conferences import conferences
from app.services.moderation import notifications
from tests.conftest import make_settings
from tests.factories import link_guardian, login, make_class, make_school, make_user

ZONE = "America/Vancouver"


@pytest.fixture
def settings(tmp_path, database_url):
    """Every test here runs in a school on Pacific time (UTC-8 in winter)."""
    return make_settings(tmp_path, database_url, timezone=ZONE)


# --- helpers -----------------------------------------------------------------------------------------


def _classroom(session, size=1, *, with_guardians=True):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    students = [make_user(session, school, Role.student, display_name=f"Student {chr(65 + i)}{i}") for i in range(size)]
    school_class = make_class(session, school, teachers=[teacher], students=students)
    guardians = []
    if with_guardians:
        for student in students:
            guardian = make_user(session, school, Role.guardian, display_name=f"Parent of {student.display_name}")
            link_guardian(session, guardian, student)
            guardians.append(guardian)
    return school, teacher, students, school_class, guardians


def _showcase(session, owner, title="My term so far", *, ready=True, audience=Audience.family, updated_at=None):
    showcase = Showcase(owner_id=owner.id, title=title, ready=ready, audience=audience,
                        updated_at=updated_at or utcnow())
    session.add(showcase)
    session.commit()
    return showcase


def _winter_day() -> date:
    """A mid-January day still to come (Pacific Standard Time, UTC-8)."""
    return date(utcnow().year + 1, 1, 14)


def _book(client, school_class, student, *, day=None, at="18:00", duration="20", guardians=(), location="Room 12",
          note="Bring questions", url=None, **extra):
    data = {"student_id": str(student.id), "date": (day or _winter_day()).isoformat(), "time": at,
            "duration": duration, "location": location, "note": note,
            "guardian_ids": [str(g.id) for g in guardians], "guardians_for": str(student.id)}
    data.update(extra)
    return client.post(url or f"/classes/{school_class.id}/conferences/new", data=data)


def _slots(session, **where):
    session.expire_all()
    statement = select(ConferenceSlot)
    for name, value in where.items():
        statement = statement.where(getattr(ConferenceSlot, name) == value)
    return list(session.exec(statement).all())


def _notes(session, user):
    session.expire_all()
    return list(session.exec(select(Notification).where(
        Notification.user_id == user.id, Notification.kind.in_([
            NotificationKind.conference_booked, NotificationKind.conference_changed, NotificationKind.conference_cancelled]))
        .order_by(Notification.id)).all())


def _slot(session, school_class, student, *, starts_at=None, duration=20, guardians=()):
    slot = ConferenceSlot(class_id=school_class.id, student_id=student.id,
                          starts_at=starts_at or utcnow() + timedelta(days=3), duration_minutes=duration,
                          location="Room 4", note="")
    session.add(slot)
    session.flush()
    for guardian in guardians:
        session.add(ConferenceInvite(slot_id=slot.id, guardian_id=guardian.id))
    session.commit()
    return slot


# --- the class's conferences page --------------------------------------------------------------------


def test_class_page_shows_readiness_families_and_slots(client, session):
    _school, teacher, (ready, private_only, unready), school_class, guardians = _classroom(session, 3)
    _showcase(session, ready, "Older showcase", updated_at=utcnow() - timedelta(days=5))
    _showcase(session, ready, "My volcano term", audience=Audience.class_)
    _showcase(session, private_only, "Secret one", audience=Audience.private)  # ready but shown to nobody
    _showcase(session, unready, "Work in progress", ready=False)
    slot = _slot(session, school_class, ready, guardians=[guardians[0]])
    login(client, teacher)
    response = client.get(f"/classes/{school_class.id}/conferences")
    assert response.status_code == 200
    html = response.text
    assert "2 ready" in html and "Newest: “My volcano term”" in html
    assert "Secret one" not in html and "Work in progress" not in html
    assert html.count("Not ready yet") == 2
    for guardian in guardians:
        assert guardian.display_name in html
    assert f'href="/conferences/{slot.id}/edit"' in html and f'href="/conferences/{slot.id}/cancel"' in html
    assert f'/classes/{school_class.id}/conferences/new?student_id={unready.id}' in html
    assert conferences.format_when(slot.starts_at, ZONE) in html


def test_class_page_lists_upcoming_slots_in_time_order_and_past_ones_apart(client, session):
    _school, teacher, (a, b, c), school_class, _guardians = _classroom(session, 3)
    now = utcnow()
    _slot(session, school_class, a, starts_at=now + timedelta(days=2))
    _slot(session, school_class, b, starts_at=now + timedelta(days=1))
    _slot(session, school_class, c, starts_at=now - timedelta(days=1))
    login(client, teacher)
    html = client.get(f"/classes/{school_class.id}/conferences").text
    upcoming, _sep, past = html.partition("1 past conference")
    assert upcoming.index(b.display_name) < upcoming.index(a.display_name)
    assert "<details>" in upcoming[-200:] or "<summary" in upcoming[-200:]
    assert c.display_name in past


def test_class_page_links_to_conferences_for_teachers(client, session):
    _school, teacher, _students, school_class, _guardians = _classroom(session, 1)
    login(client, teacher)
    assert f'href="/classes/{school_class.id}/conferences"' in client.get(f"/classes/{school_class.id}").text


def test_class_page_runs_the_same_number_of_queries_for_3_and_15_students(client, session, count_queries):
    counts = []
    for size in (3, 15):
        _school, teacher, students, school_class, guardians = _classroom(session, size)
        start = utcnow() + timedelta(days=1)
        for i, (student, guardian) in enumerate(zip(students, guardians)):
            _showcase(session, student, f"Showcase {i}")
            _slot(session, school_class, student, starts_at=start + timedelta(minutes=30 * i), guardians=[guardian])
        login(client, teacher)
        with count_queries() as counter:
            response = client.get(f"/classes/{school_class.id}/conferences")
        assert response.status_code == 200 and response.text.count('<th scope="row">') == size
        assert response.text.count("1 ready") == size
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


# --- scheduling ---------------------------------------------------------------------------------------


def test_new_form_asks_for_the_student_first_then_offers_their_family_checked(client, session):
    _school, teacher, (a, b), school_class, (parent_a, parent_b) = _classroom(session, 2)
    login(client, teacher)
    first = client.get(f"/classes/{school_class.id}/conferences/new")
    assert first.status_code == 200
    new_url = f"/classes/{school_class.id}/conferences/new"
    assert f'<form method="get" action="{new_url}"' in first.text and 'name="student_id"' in first.text
    assert f'<form method="post" action="{new_url}"' not in first.text and 'name="guardian_ids"' not in first.text
    second = client.get(f"/classes/{school_class.id}/conferences/new?student_id={a.id}")
    html = second.text
    assert f'<form method="post" action="{new_url}"' in html and "<legend>Families invited</legend>" in html
    assert f'id="guardian-{parent_a.id}" name="guardian_ids" value="{parent_a.id}" checked' in html
    assert f'guardian-{parent_b.id}"' not in html
    assert 'type="date"' in html and 'type="time"' in html and 'value="20"' in html


def test_booking_converts_the_school_time_zone_to_utc_and_tells_everyone(client, session):
    _school, teacher, (student,), school_class, (parent,) = _classroom(session, 1)
    second_parent = make_user(session, _school, Role.guardian, display_name="Second parent")
    link_guardian(session, second_parent, student)
    login(client, teacher)
    response = _book(client, school_class, student, guardians=[parent, second_parent])
    assert response.status_code == 303 and response.headers["location"] == f"/classes/{school_class.id}/conferences"
    (slot,) = _slots(session)
    day = _winter_day()
    # 18:00 in Vancouver in January is 02:00 UTC the next day.
    assert slot.starts_at == datetime(day.year, day.month, day.day + 1, 2, 0, tzinfo=UTC)
    assert (slot.duration_minutes, slot.location, slot.note, slot.created_by_id) == (20, "Room 12", "Bring questions",
                                                                                      teacher.id)
    invited = set(session.exec(select(ConferenceInvite.guardian_id).where(ConferenceInvite.slot_id == slot.id)).all())
    assert invited == {parent.id, second_parent.id}
    when = conferences.format_when(slot.starts_at, ZONE)
    assert "January 14" in when and "6:00" in when  # shown back in the school's zone, not as 2:00 on the 15th
    for person in (student, parent, second_parent):
        (note,) = _notes(session, person)
        assert note.kind is NotificationKind.conference_booked and note.link == "/conferences"
        assert notifications.message(note) == f"A conference for {student.display_name} is booked: {when}."
    assert _notes(session, teacher) == []
    page = client.get(f"/classes/{school_class.id}/conferences")
    assert when in page.text and "was booked" not in page.text
    assert "is booked for" in page.text  # the flash


def test_booking_only_some_of_the_family(client, session):
    _school, teacher, (student,), school_class, (parent,) = _classroom(session, 1)
    other_parent = make_user(session, _school, Role.guardian)
    link_guardian(session, other_parent, student)
    login(client, teacher)
    assert _book(client, school_class, student, guardians=[parent]).status_code == 303
    (slot,) = _slots(session)
    assert session.exec(select(ConferenceInvite.guardian_id).where(ConferenceInvite.slot_id == slot.id)).all() == [parent.id]
    assert len(_notes(session, parent)) == 1 and _notes(session, other_parent) == []


@pytest.mark.parametrize("fields, field_name, message", [
    ({"date": ""}, "date", "Choose the day of the conference."),
    ({"date": "14/01/2027"}, "date", "Enter the date as year-month-day"),
    ({"time": ""}, "time", "Choose the start time."),
    ({"time": "25:99"}, "time", "Enter the time as hours and minutes"),
    ({"duration": "3"}, "duration", "A conference lasts from 5 to 120 minutes."),
    ({"duration": "121"}, "duration", "A conference lasts from 5 to 120 minutes."),
    ({"duration": "soon"}, "duration", "A conference lasts from 5 to 120 minutes."),
    ({"location": "x" * 201}, "location", "Keep the location under 200 characters."),
])
def test_bad_input_is_refused_beside_the_field(client, session, fields, field_name, message):
    _school, teacher, (student,), school_class, (parent,) = _classroom(session, 1)
    login(client, teacher)
    response = _book(client, school_class, student, guardians=[parent], **fields)
    assert response.status_code == 422
    assert f'id="{field_name}-error"' in response.text and message in response.text
    assert _slots(session) == [] and _notes(session, student) == []


def test_a_time_in_the_past_is_refused(client, session):
    _school, teacher, (student,), school_class, (parent,) = _classroom(session, 1)
    login(client, teacher)
    yesterday = (utcnow() - timedelta(days=1)).date()
    response = _book(client, school_class, student, day=yesterday, guardians=[parent])
    assert response.status_code == 422 and "That day and time have passed" in response.text
    assert _slots(session) == []


def test_a_time_skipped_by_the_clock_change_is_refused(client, session):
    _school, teacher, (student,), school_class, _guardians = _classroom(session, 1)
    login(client, teacher)
    # In 2027 Vancouver's clocks jump from 02:00 to 03:00 on 14 March.
    response = _book(client, school_class, student, day=date(utcnow().year + 1, 3, 14), at="02:30")
    assert response.status_code == 422 and "the clocks change" in response.text
    assert _slots(session) == []


def test_an_overlapping_slot_is_refused_naming_the_other_student_and_time(client, session):
    _school, teacher, (a, b), school_class, (parent_a, parent_b) = _classroom(session, 2)
    login(client, teacher)
    assert _book(client, school_class, a, at="18:00", duration="20", guardians=[parent_a]).status_code == 303
    (first,) = _slots(session)
    clash = _book(client, school_class, b, at="18:10", guardians=[parent_b])
    assert clash.status_code == 422
    assert f"That overlaps {a.display_name}’s conference" in clash.text or f"That overlaps {a.display_name}&#39;s conference" in clash.text
    assert conferences.format_when(first.starts_at, ZONE) in clash.text
    assert 'id="time-error"' in clash.text
    assert len(_slots(session)) == 1 and _notes(session, b) == []
    starts_before = _book(client, school_class, b, at="17:45", guardians=[parent_b])
    assert starts_before.status_code == 422
    # Back to back is fine: the first one ends at 18:20.
    assert _book(client, school_class, b, at="18:20", guardians=[parent_b]).status_code == 303
    assert len(_slots(session)) == 2


def test_slots_of_another_class_do_not_clash(client, session):
    school, teacher, (a,), school_class, _g = _classroom(session, 1)
    other_student = make_user(session, school, Role.student)
    other_class = make_class(session, school, teachers=[teacher], students=[other_student])
    _slot(session, other_class, other_student, starts_at=datetime.combine(_winter_day() + timedelta(days=1),
                                                                         datetime.min.time(), tzinfo=UTC)
          + timedelta(hours=2))  # 18:00 on the 14th in Vancouver
    login(client, teacher)
    assert _book(client, school_class, a, at="18:00").status_code == 303


def test_a_student_of_another_class_is_refused(client, session):
    school, teacher, (student,), school_class, _g = _classroom(session, 1)
    outsider = make_user(session, school, Role.student)
    make_class(session, school, students=[outsider])
    login(client, teacher)
    response = _book(client, school_class, outsider)
    assert response.status_code == 422 and "Choose a student of this class." in response.text
    assert 'id="student_id-error"' in response.text
    assert _slots(session) == []


def test_a_guardian_of_another_student_is_refused(client, session):
    _school, teacher, (a, b), school_class, (parent_a, parent_b) = _classroom(session, 2)
    login(client, teacher)
    response = _book(client, school_class, a, guardians=[parent_a, parent_b])
    assert response.status_code == 422 and "family" in response.text
    assert 'id="guardian_ids-error"' in response.text
    assert _slots(session) == [] and _notes(session, parent_b) == [] and _notes(session, parent_a) == []
    nonsense = _book(client, school_class, a, guardians=[], guardian_ids=["abc"])
    assert nonsense.status_code == 422 and _slots(session) == []


def test_picking_another_student_shows_their_family_before_saving(client, session):
    _school, teacher, (a, b), school_class, (parent_a, parent_b) = _classroom(session, 2)
    login(client, teacher)
    # The form was showing a's family when the teacher switched the select to b.
    response = _book(client, school_class, b, guardians=[parent_a], guardians_for=str(a.id))
    assert response.status_code == 422
    assert f"Check which of {b.display_name}" in response.text
    assert f'id="guardian-{parent_b.id}" name="guardian_ids" value="{parent_b.id}" checked' in response.text
    assert f'guardian-{parent_a.id}"' not in response.text
    assert f'name="guardians_for" value="{b.id}"' in response.text
    assert _slots(session) == []


def test_a_student_without_family_can_still_be_booked(client, session):
    _school, teacher, (student,), school_class, _g = _classroom(session, 1, with_guardians=False)
    login(client, teacher)
    form = client.get(f"/classes/{school_class.id}/conferences/new?student_id={student.id}")
    assert "No family members are linked" in form.text
    assert _book(client, school_class, student).status_code == 303
    assert len(_slots(session)) == 1 and len(_notes(session, student)) == 1


# --- changing and cancelling -----------------------------------------------------------------------------


def test_editing_a_slot_shows_it_in_the_school_zone_and_tells_the_family(client, session):
    _school, teacher, (student,), school_class, (parent,) = _classroom(session, 1)
    login(client, teacher)
    _book(client, school_class, student, guardians=[parent])
    (slot,) = _slots(session)
    form = client.get(f"/conferences/{slot.id}/edit")
    assert form.status_code == 200
    assert f'value="{_winter_day().isoformat()}"' in form.text and 'value="18:00"' in form.text
    assert f'value="{parent.id}" checked' in form.text
    # Moving by ten minutes overlaps only itself, which is fine.
    response = _book(client, school_class, student, at="18:10", duration="30", location="Library", guardians=[parent],
                     url=f"/conferences/{slot.id}/edit")
    assert response.status_code == 303, response.text
    (changed,) = _slots(session)
    day = _winter_day()
    assert changed.id == slot.id
    assert changed.starts_at == datetime(day.year, day.month, day.day + 1, 2, 10, tzinfo=UTC)
    assert (changed.duration_minutes, changed.location) == (30, "Library")
    for person in (student, parent):
        notes = _notes(session, person)
        assert len(notes) == 2 and notes[-1].kind is NotificationKind.conference_changed
        assert conferences.format_when(changed.starts_at, ZONE) in notifications.message(notes[-1])


def test_editing_checks_like_booking(client, session):
    _school, teacher, (a, b), school_class, (parent_a, parent_b) = _classroom(session, 2)
    login(client, teacher)
    _book(client, school_class, a, at="18:00", guardians=[parent_a])
    _book(client, school_class, b, at="19:00", guardians=[parent_b])
    slot_b = _slots(session, student_id=b.id)[0]
    before = slot_b.starts_at
    clash = _book(client, school_class, b, at="18:15", guardians=[parent_b], url=f"/conferences/{slot_b.id}/edit")
    assert clash.status_code == 422 and "That overlaps" in clash.text
    wrong_family = _book(client, school_class, b, guardians=[parent_a], url=f"/conferences/{slot_b.id}/edit")
    assert wrong_family.status_code == 422
    past = _book(client, school_class, b, day=date(2020, 1, 1), guardians=[parent_b], url=f"/conferences/{slot_b.id}/edit")
    assert past.status_code == 422
    assert _slots(session, student_id=b.id)[0].starts_at == before
    assert len(_notes(session, parent_b)) == 1


def test_uninvited_family_is_told_it_is_cancelled_for_them(client, session):
    _school, teacher, (student,), school_class, (parent,) = _classroom(session, 1)
    second = make_user(session, _school, Role.guardian)
    link_guardian(session, second, student)
    login(client, teacher)
    _book(client, school_class, student, guardians=[parent, second])
    (slot,) = _slots(session)
    assert _book(client, school_class, student, guardians=[parent], url=f"/conferences/{slot.id}/edit").status_code == 303
    assert _notes(session, second)[-1].kind is NotificationKind.conference_cancelled
    assert _notes(session, parent)[-1].kind is NotificationKind.conference_changed
    assert session.exec(select(ConferenceInvite.guardian_id).where(ConferenceInvite.slot_id == slot.id)).all() == [parent.id]


def test_cancelling_asks_first_then_removes_the_slot_and_tells_everyone(client, session):
    _school, teacher, (student,), school_class, (parent,) = _classroom(session, 1)
    login(client, teacher)
    _book(client, school_class, student, guardians=[parent])
    (slot,) = _slots(session)
    confirm = client.get(f"/conferences/{slot.id}/cancel")
    assert confirm.status_code == 200
    assert f'action="/conferences/{slot.id}/cancel"' in confirm.text and _slots(session)
    response = client.post(f"/conferences/{slot.id}/cancel")
    assert response.status_code == 303 and response.headers["location"] == f"/classes/{school_class.id}/conferences"
    assert _slots(session) == []
    assert session.exec(select(ConferenceInvite)).all() == []
    for person in (student, parent):
        notes = _notes(session, person)
        assert len(notes) == 2 and notes[-1].kind is NotificationKind.conference_cancelled
        assert "is cancelled" in notifications.message(notes[-1])


# --- who may do what ---------------------------------------------------------------------------------------


def test_only_the_class_teachers_reach_any_conference_management_route(client, new_client, session):
    school, teacher, (student,), school_class, (parent,) = _classroom(session, 1)
    slot = _slot(session, school_class, student, guardians=[parent])
    other_teacher = make_user(session, school, Role.teacher)
    make_class(session, school, teachers=[other_teacher])
    admin = make_user(session, school, Role.admin)
    routes = [
        ("get", f"/classes/{school_class.id}/conferences"),
        ("get", f"/classes/{school_class.id}/conferences/new"),
        ("post", f"/classes/{school_class.id}/conferences/new"),
        ("get", f"/conferences/{slot.id}/edit"),
        ("post", f"/conferences/{slot.id}/edit"),
        ("get", f"/conferences/{slot.id}/cancel"),
        ("post", f"/conferences/{slot.id}/cancel"),
    ]
    for user in (other_teacher, admin, parent, student):
        browser = new_client()
        login(browser, user)
        for method, path in routes:
            response = getattr(browser, method)(path)
            assert response.status_code == 404, (user.username, method, path, response.status_code)
    assert len(_slots(session)) == 1 and _notes(session, student) == []
    login(client, teacher)
    assert client.get(f"/classes/{school_class.id}/conferences").status_code == 200
    assert client.get(f"/conferences/{slot.id}/edit").status_code == 200
    assert client.get("/classes/99999/conferences").status_code == 404
    assert client.get("/conferences/99999/edit").status_code == 404


def test_a_co_teacher_of_the_class_may_manage_it(client, session):
    school, teacher, (student,), school_class, _g = _classroom(session, 1)
    co_teacher = make_user(session, school, Role.teacher)
    from app.models import ClassRole, EnrolledVia
    from app.services.classes.classes import enroll

    enroll(session=session, school_class=school_class, user=co_teacher, role=ClassRole.teacher, via=EnrolledVia.admin)
    session.commit()
    slot = _slot(session, school_class, student)
    login(client, co_teacher)
    assert client.get(f"/conferences/{slot.id}/cancel").status_code == 200


# --- everyone's own conferences -------------------------------------------------------------------------------


def test_guardian_sees_their_slot_with_the_ready_showcase_and_not_another_familys(client, new_client, session):
    _school, teacher, (child, other_child), school_class, (parent, other_parent) = _classroom(session, 2)
    shared = _showcase(session, child, "Maya's term")
    hidden = _showcase(session, child, "Just for me", audience=Audience.private)
    unready = _showcase(session, child, "Not yet", ready=False)
    _showcase(session, other_child, "Other family's showcase")
    mine = _slot(session, school_class, child, guardians=[parent])
    theirs = _slot(session, school_class, other_child, starts_at=utcnow() + timedelta(days=5), guardians=[other_parent])
    past = _slot(session, school_class, child, starts_at=utcnow() - timedelta(days=30), guardians=[parent])
    login(client, parent)
    response = client.get("/conferences")
    assert response.status_code == 200
    html = response.text
    upcoming, _sep, earlier = html.partition("1 past conference")
    assert child.display_name in upcoming and conferences.format_when(mine.starts_at, ZONE) in upcoming
    assert "Room 4" in upcoming and "20 minutes" in upcoming
    assert f'href="/showcases/{shared.id}"' in upcoming
    assert f"/showcases/{hidden.id}\"" not in html and f"/showcases/{unready.id}\"" not in html
    assert conferences.format_when(past.starts_at, ZONE) in earlier
    assert other_child.display_name not in html and "Other family's showcase" not in html
    assert conferences.format_when(theirs.starts_at, ZONE) not in html
    for path in (f"/conferences/{theirs.id}/edit", f"/conferences/{theirs.id}/cancel", f"/conferences/{mine.id}/edit"):
        assert client.get(path).status_code == 404
    other = new_client()
    login(other, other_parent)
    assert conferences.format_when(mine.starts_at, ZONE) not in other.get("/conferences").text


def test_a_guardian_not_invited_does_not_see_the_slot(client, session):
    school, _teacher, (child,), school_class, (parent,) = _classroom(session, 1)
    second = make_user(session, school, Role.guardian)
    link_guardian(session, second, child)
    slot = _slot(session, school_class, child, guardians=[parent])
    login(client, second)
    assert conferences.format_when(slot.starts_at, ZONE) not in client.get("/conferences").text
    assert conferences.upcoming_for_guardian(session=session, guardian=second) == []
    (view,) = conferences.upcoming_for_guardian(session=session, guardian=parent)
    assert view.slot.id == slot.id and view.student.id == child.id


def test_upcoming_for_guardian_leaves_out_ended_slots(session, app):
    _school, _teacher, (child,), school_class, (parent,) = _classroom(session, 1)
    soon = _slot(session, school_class, child, starts_at=utcnow() + timedelta(days=1), guardians=[parent])
    _slot(session, school_class, child, starts_at=utcnow() - timedelta(days=1), guardians=[parent])
    later = _slot(session, school_class, child, starts_at=utcnow() + timedelta(days=9), guardians=[parent])
    views = conferences.upcoming_for_guardian(session=session, guardian=parent)
    assert [v.slot.id for v in views] == [soon.id, later.id]
    in_ten_days = conferences.upcoming_for_guardian(session=session, guardian=parent, now=utcnow() + timedelta(days=10))
    assert in_ten_days == []


def test_family_partial_renders_the_next_slot(client, session, app):
    _school, _teacher, (child,), school_class, (parent,) = _classroom(session, 1)
    showcase = _showcase(session, child, "Ready to present")
    slot = _slot(session, school_class, child, guardians=[parent])
    views = conferences.upcoming_for_guardian(session=session, guardian=parent)

    class _State:
        settings = app.state.settings

    class _App:
        state = _State()

    class _Request:
        app = _App()

    template = app.state.templates.from_string(
        '{% with conference_slots=slots %}{% include "conferences/_family_slots.html" %}{% endwith %}')
    html = template.render(slots=views, request=_Request())
    assert child.display_name in html and conferences.format_when(slot.starts_at, ZONE) in html
    assert f'href="/showcases/{showcase.id}"' in html and 'href="/conferences"' in html
    assert template.render(slots=[], request=_Request()).strip() == ""


def test_teacher_sees_their_classes_and_the_next_slots_across_them(client, session):
    school, teacher, (a,), school_class, _g = _classroom(session, 1)
    b = make_user(session, school, Role.student)
    second_class = make_class(session, school, teachers=[teacher], students=[b], name="Second class")
    elsewhere = make_user(session, school, Role.student)
    not_mine = make_class(session, school, students=[elsewhere], name="Someone else's class")
    _slot(session, school_class, a, starts_at=utcnow() + timedelta(days=2))
    _slot(session, second_class, b, starts_at=utcnow() + timedelta(days=1))
    _slot(session, not_mine, elsewhere, starts_at=utcnow() + timedelta(days=1))
    _slot(session, school_class, a, starts_at=utcnow() - timedelta(days=1))
    login(client, teacher)
    html = client.get("/conferences").text
    assert f'href="/classes/{school_class.id}/conferences"' in html and f'href="/classes/{second_class.id}/conferences"' in html
    assert f"/classes/{not_mine.id}/conferences" not in html and elsewhere.display_name not in html
    assert html.index(b.display_name) < html.index(a.display_name)
    assert html.count('class="card conference"') == 2


def test_student_sees_their_own_slot(client, session):
    _school, _teacher, (student, classmate), school_class, (parent, _other) = _classroom(session, 2)
    mine = _slot(session, school_class, student, guardians=[parent])
    theirs = _slot(session, school_class, classmate, starts_at=utcnow() + timedelta(days=6))
    login(client, student)
    html = client.get("/conferences").text
    assert conferences.format_when(mine.starts_at, ZONE) in html and parent.display_name in html
    assert conferences.format_when(theirs.starts_at, ZONE) not in html


def test_admin_gets_an_empty_state(client, session):
    school, _teacher, (student,), school_class, _g = _classroom(session, 1)
    _slot(session, school_class, student)
    admin = make_user(session, school, Role.admin)
    login(client, admin)
    response = client.get("/conferences")
    assert response.status_code == 200
    assert "Teachers book conferences for their classes" in response.text and student.display_name not in response.text

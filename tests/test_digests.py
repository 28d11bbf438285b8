"""Family digests: what each guardian is told, when, in which language, once; sent to a real SMTP server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from babel.dates import format_date
from sqlmodel import select

from app import cli, i18n
from app.models import (
    ApprovalStatus, Audience, Comment, CommentKind, CommentStatus, DigestLog, GuardianLink, ItemApproval, ItemType,
    Role, User,
)
from app.models.base import utcnow
from app.services.family import digests
from app.services.portfolio.goal_forms import GoalData
from app.services.portfolio.goals import achieve_goal, create_goal
from tests.conftest import make_settings
from tests.factories import login, make_class, make_note, make_reflection, make_school, make_user
from tests.test_mail import parts, smtp_server  # noqa: F401 - the SMTP server fixture


@pytest.fixture
def inbox(smtp_server):  # noqa: F811
    return smtp_server[0]


@pytest.fixture
def settings(tmp_path, database_url, smtp_server):  # noqa: F811
    """The usual test settings, sending email to the test SMTP server."""
    _inbox, port = smtp_server
    return make_settings(tmp_path, database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                         mail_from="Folio <folio@school.example>")


# --- a school with two families ------------------------------------------------------------------------


@dataclass
class World:
    t0: object
    teacher: User
    maya: User
    leo: User
    zed: User
    parent: User  # Maya's and Leo's
    gran: User  # Zed's
    items: dict


def _goal(session, owner, title, audience=Audience.family):
    goal = create_goal(session=session, owner=owner, data=GoalData(
        title=title, why="", success_criteria="", target_date=None, audience=audience, competency_ids=set(), steps=[]))
    session.commit()
    return goal


def _teacher_comment(session, teacher, owner, item_type, item_id, body):
    comment = Comment(item_type=item_type, item_id=item_id, owner_id=owner.id, author_id=teacher.id,
                      kind=CommentKind.teacher, body=body, status=CommentStatus.visible)
    session.add(comment)
    session.commit()
    return comment


def _backdate_links(session, guardian, when):
    for link in session.exec(select(GuardianLink).where(GuardianLink.guardian_id == guardian.id)).all():
        link.created_at = when
        session.add(link)
    session.commit()


def _world(session) -> World:
    t0 = utcnow() - timedelta(minutes=5)
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    maya = make_user(session, school, Role.student, display_name="Maya")
    leo = make_user(session, school, Role.student, display_name="Leo")
    zed = make_user(session, school, Role.student, display_name="Zed")
    make_class(session, school, teachers=[teacher], students=[maya, leo, zed])
    careful = make_class(session, school, teachers=[teacher], students=[leo])
    careful.family_items_need_approval = True
    session.add(careful)
    session.commit()
    parent = make_user(session, school, Role.guardian, display_name="Pat", email="pat@example.org")
    gran = make_user(session, school, Role.guardian, display_name="Gran", email="gran@example.org")
    for guardian, child in ((parent, maya), (parent, leo), (gran, zed)):
        session.add(GuardianLink(guardian_id=guardian.id, student_id=child.id, created_at=t0))
    session.commit()

    items = {
        "poem": make_note(session, maya, title="Poem: Sun & <Sky>", audience=Audience.family),
        "diary": make_note(session, maya, title="Maya private diary", audience=Audience.private),
        "lab": make_note(session, maya, title="Maya class lab", audience=Audience.class_),
        "draft": make_reflection(session, maya, title="Maya draft thoughts", audience=Audience.family, draft=True),
        "song": make_note(session, leo, title="Leo unapproved song", audience=Audience.family),
        "dance": make_note(session, leo, title="Leo approved dance", audience=Audience.family),
        "drawing": make_note(session, zed, title="Zed family drawing", audience=Audience.family),
    }
    approval = session.exec(select(ItemApproval).where(ItemApproval.item_id == items["dance"].id)).one()
    approval.status, approval.reviewed_at, approval.reviewed_by_id = ApprovalStatus.approved, utcnow(), teacher.id
    session.add(approval)
    session.commit()
    goal = _goal(session, maya, "Read ten books")
    achieve_goal(session=session, goal=goal, closing_text="I read every evening before bed.")
    session.commit()
    items["goal"] = goal
    _teacher_comment(session, teacher, maya, ItemType.artefact, items["poem"].id, "Your **imagery** is vivid.")
    _teacher_comment(session, teacher, maya, ItemType.artefact, items["diary"].id, "Secret teacher note")
    _teacher_comment(session, teacher, leo, ItemType.artefact, items["song"].id, "Hidden until approved")
    return World(t0, teacher, maya, leo, zed, parent, gran, items)


def _week_later(world: World):
    return world.t0 + timedelta(days=7)


# --- content ------------------------------------------------------------------------------------------


def test_each_guardian_hears_about_their_own_children_only(session, settings, inbox):
    world = _world(session)
    report = digests.send_due(session=session, settings=settings, now=_week_later(world))
    assert (report.sent, report.failed) == (2, 0)

    (message,) = inbox.to("pat@example.org")
    assert message["Subject"] == "Folio: what Leo and Maya shared this week"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    text, html = parts(message)
    for part in (text, html):
        assert "Leo approved dance" in part
        assert "Read ten books" in part  # the achieved goal
        assert "Your imagery is vivid." in part and "Ms Rivera" in part  # the teacher's highlight, as plain words
        assert f"http://testserver/artefacts/{world.items['poem'].id}" in part
        assert f"http://testserver/goals/{world.items['goal'].id}" in part
        assert f"http://testserver/family/children/{world.maya.id}" in part
        assert f"http://testserver/family/children/{world.leo.id}" in part
        assert "http://testserver/account" in part
        for secret in ("Maya private diary", "Maya class lab", "Maya draft thoughts", "Leo unapproved song",
                       "Zed family drawing", "Secret teacher note", "Hidden until approved"):
            assert secret not in part, secret
    assert "Poem: Sun & <Sky>" in text  # plain text is not HTML-escaped
    assert "Poem: Sun &amp; &lt;Sky&gt;" in html and "<Sky>" not in html
    assert "<img" not in html and "http://" not in html.replace("http://testserver", "")  # nothing from elsewhere

    (grans,) = inbox.to("gran@example.org")
    text, _html = parts(grans)
    assert grans["Subject"] == "Folio: what Zed shared this week"
    assert "Zed family drawing" in text and "Maya" not in text and "Leo" not in text

    logs = {log.guardian_id: log for log in session.exec(select(DigestLog)).all()}
    assert set(logs) == {world.parent.id, world.gran.id}
    pat_log = logs[world.parent.id]
    # poem, dance, the closing reflection, the achieved goal (told once), one highlight
    assert pat_log.item_count == 5
    assert digests._aware(pat_log.period_start) == world.t0
    assert digests._aware(pat_log.period_end) == _week_later(world)


def test_an_item_approved_later_comes_in_the_digest_of_its_approval(session, settings, inbox):
    world = _world(session)
    digests.send_due(session=session, settings=settings, now=_week_later(world))
    approval = session.exec(select(ItemApproval).where(ItemApproval.item_id == world.items["song"].id)).one()
    approval.status, approval.reviewed_at = ApprovalStatus.approved, _week_later(world) + timedelta(days=1)
    session.add(approval)
    session.commit()
    digests.send_due(session=session, settings=settings, now=_week_later(world) + timedelta(days=7))
    first, second = inbox.to("pat@example.org")
    assert "Leo unapproved song" not in parts(first)[0]
    assert "Leo unapproved song" in parts(second)[0]
    assert "Leo approved dance" not in parts(second)[0]  # told last week


def test_a_digest_goes_once(session, settings, inbox):
    world = _world(session)
    now = _week_later(world)
    assert digests.send_due(session=session, settings=settings, now=now).sent == 2
    again = digests.send_due(session=session, settings=settings, now=now)
    assert (again.sent, again.not_due) == (0, 2)
    later = digests.send_due(session=session, settings=settings, now=now + timedelta(days=3))
    assert later.sent == 0
    assert len(inbox.to("pat@example.org")) == 1
    assert len(session.exec(select(DigestLog).where(DigestLog.guardian_id == world.parent.id)).all()) == 1


def test_off_and_no_email_are_skipped(session, settings, inbox):
    world = _world(session)
    world.parent.digest_frequency = "off"
    world.gran.email = None
    session.add_all([world.parent, world.gran])
    session.commit()
    report = digests.send_due(session=session, settings=settings, now=_week_later(world))
    assert (report.sent, report.skipped) == (0, 2)
    assert inbox.received == []
    assert session.exec(select(DigestLog)).all() == []


def test_a_period_with_nothing_new_is_recorded_without_an_email(session, settings, inbox):
    school = make_school(session)
    child = make_user(session, school, Role.student, display_name="Quiet")
    make_note(session, child, title="Only private", audience=Audience.private)
    guardian = make_user(session, school, Role.guardian, email="quiet@example.org")
    session.add(GuardianLink(guardian_id=guardian.id, student_id=child.id, created_at=utcnow() - timedelta(days=8)))
    session.commit()
    report = digests.send_due(session=session, settings=settings)
    assert (report.sent, report.empty) == (0, 1)
    assert inbox.received == []
    (log,) = session.exec(select(DigestLog)).all()
    assert log.item_count == 0 and log.guardian_id == guardian.id


# --- when it is due ---------------------------------------------------------------------------------


def test_weekly_and_daily_are_due_after_their_interval(session, settings):
    school = make_school(session)
    child = make_user(session, school, Role.student)
    guardian = make_user(session, school, Role.guardian, email="g@example.org")
    t0 = utcnow() - timedelta(minutes=1)
    session.add(GuardianLink(guardian_id=guardian.id, student_id=child.id, created_at=t0))
    session.commit()

    def due(now):
        start, end = digests.digest_period(session=session, guardian=guardian, now=now)
        assert end == now
        return digests.is_due(frequency=guardian.digest_frequency, period_start=start, now=now)

    assert guardian.digest_frequency == "weekly"  # the default
    assert not due(t0 + timedelta(days=1))
    assert not due(t0 + timedelta(days=6))
    assert due(t0 + timedelta(days=7))
    # Linked long ago and never sent one: the first digest covers one week, not everything since.
    assert digests.digest_period(session=session, guardian=guardian, now=t0 + timedelta(days=60))[0] == \
        t0 + timedelta(days=53)

    guardian.digest_frequency = "daily"
    assert not due(t0 + timedelta(hours=12))
    assert due(t0 + timedelta(days=1))
    assert due(t0 + timedelta(hours=23, minutes=30))  # a cron job at the same hour, a bit early: still today's

    session.add(DigestLog(guardian_id=guardian.id, period_start=t0, period_end=t0 + timedelta(days=1)))
    session.commit()
    # The next one starts where the last ended.
    assert digests.digest_period(session=session, guardian=guardian, now=t0 + timedelta(days=2))[0] == \
        t0 + timedelta(days=1)
    assert not due(t0 + timedelta(days=1, hours=12))
    assert due(t0 + timedelta(days=2))

    guardian.digest_frequency = "off"
    assert not due(t0 + timedelta(days=30))


def test_daily_digests_through_send_due(session, settings, inbox):
    world = _world(session)
    world.parent.digest_frequency = "daily"
    session.add(world.parent)
    session.commit()
    day_one = world.t0 + timedelta(days=1)
    report = digests.send_due(session=session, settings=settings, now=day_one)
    assert report.sent == 1 and report.not_due == 1  # Gran is weekly
    (message,) = inbox.to("pat@example.org")
    assert message["Subject"] == "Folio: what Leo and Maya shared today"
    assert digests.send_due(session=session, settings=settings, now=day_one + timedelta(hours=6)).not_due == 2
    # The next day has nothing new: recorded, not sent.
    assert digests.send_due(session=session, settings=settings, now=day_one + timedelta(days=1)).empty == 1
    assert len(inbox.to("pat@example.org")) == 1


# --- language -----------------------------------------------------------------------------------------


def test_each_digest_is_written_in_its_readers_language(session, settings, inbox):
    world = _world(session)
    world.parent.locale = "es"
    session.add(world.parent)
    session.commit()
    now = _week_later(world)
    i18n.set_locale("fr")
    try:
        digests.send_due(session=session, settings=settings, now=now)
        assert i18n.get_locale() == "fr"  # restored afterwards
    finally:
        i18n.set_locale("en")
    end = now.date()
    spanish_date, english_date = format_date(end, "long", locale="es"), format_date(end, "long", locale="en")
    assert spanish_date != english_date
    (pats,) = inbox.to("pat@example.org")
    text, html = parts(pats)
    assert spanish_date in text and spanish_date in html and english_date not in text
    assert '<html lang="es">' in html
    (grans,) = inbox.to("gran@example.org")
    assert english_date in parts(grans)[0]  # no language of her own: the school's default
    assert '<html lang="en">' in parts(grans)[1]


def test_the_subject_is_translated_for_the_reader(session, settings, monkeypatch):
    world = _world(session)
    world.parent.locale = "es"
    seen: list[str] = []
    original = i18n.translations_for

    def spy(locale):
        seen.append(locale)
        return original(locale)

    monkeypatch.setattr(i18n, "translations_for", spy)
    digest = digests.compose_digest(session=session, settings=settings, guardian=world.parent,
                                    period_start=world.t0, period_end=_week_later(world))
    rendered = digests.render_digest(settings=settings, digest=digest)
    assert "es" in seen and "Maya" in rendered.subject


# --- failures, the command, the preview, queries --------------------------------------------------------


def test_one_failing_guardian_does_not_stop_the_others_and_is_retried(session, settings, inbox):
    world = _world(session)
    inbox.refuse.add("pat@example.org")
    now = _week_later(world)
    report = digests.send_due(session=session, settings=settings, now=now)
    assert (report.sent, report.failed) == (1, 1)
    assert len(inbox.to("gran@example.org")) == 1 and inbox.to("pat@example.org") == []
    assert session.exec(select(DigestLog).where(DigestLog.guardian_id == world.parent.id)).all() == []

    inbox.refuse.clear()
    retry = digests.send_due(session=session, settings=settings, now=now + timedelta(minutes=1))
    assert (retry.sent, retry.failed) == (1, 0)
    (message,) = inbox.to("pat@example.org")
    assert "Leo approved dance" in parts(message)[0]


def test_cli_send_digests(session, settings, inbox, monkeypatch, capsys):
    school = make_school(session)
    child = make_user(session, school, Role.student, display_name="Ana")
    make_note(session, child, title="Ana's volcano", audience=Audience.family)
    guardian = make_user(session, school, Role.guardian, email="ana.family@example.org")
    session.add(GuardianLink(guardian_id=guardian.id, student_id=child.id, created_at=utcnow() - timedelta(days=7)))
    session.commit()
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["send-digests"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0 and "Digests: 1 sent" in out and "Notification emails: 0 sent" in out
    (message,) = inbox.to("ana.family@example.org")
    assert "Ana's volcano" in parts(message)[0]
    assert cli.main(["send-digests"]) == 0
    assert len(inbox.received) == 1

    monkeypatch.setattr(cli, "get_settings", lambda: settings.model_copy(update={"smtp_host": ""}))
    assert cli.main(["send-digests"]) != 0
    assert "FOLIO_SMTP_HOST" in capsys.readouterr().err


def test_the_preview_shows_the_next_digest(client, new_client, session, settings):
    world = _world(session)
    _backdate_links(session, world.parent, utcnow() - timedelta(days=2))
    login(client, world.parent)
    page = client.get("/family/digest")
    assert page.status_code == 200
    assert "<h1>Your next digest</h1>" in page.text
    assert "Leo approved dance" in page.text and "Read ten books" in page.text and "Your imagery is vivid." in page.text
    assert "Zed family drawing" not in page.text and "Leo unapproved song" not in page.text
    assert "Poem: Sun &amp; &lt;Sky&gt;" in page.text
    assert "Weekly" in page.text and 'href="/account#email-heading"' in page.text
    assert "<html" not in page.text.split("<main", 1)[1]  # the email's part, not a document inside the page
    assert format_date(date.today(), "long", locale="en") in page.text

    student = new_client()
    login(student, world.maya)
    assert student.get("/family/digest").status_code == 403
    assert new_client().get("/family/digest").status_code == 303  # sign in first


def test_composing_a_digest_takes_the_same_queries_for_few_or_many_items(session, settings, count_queries):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    child = make_user(session, school, Role.student)
    careful = make_class(session, school, teachers=[teacher], students=[child])
    careful.family_items_need_approval = True
    session.add(careful)
    guardian = make_user(session, school, Role.guardian)
    session.add(GuardianLink(guardian_id=guardian.id, student_id=child.id))
    session.commit()
    start = utcnow() - timedelta(minutes=1)

    def add_items(n):
        for i in range(n):
            note = make_note(session, child, title=f"Note {i}", audience=Audience.family)
            reflection = make_reflection(session, child, title=f"Reflection {i}", audience=Audience.family)
            goal = _goal(session, child, f"Goal {i}")
            achieve_goal(session=session, goal=goal, closing_text="Done well.")
            _teacher_comment(session, teacher, child, ItemType.artefact, note.id, f"Well done {i}")
            for approval in session.exec(select(ItemApproval).where(ItemApproval.owner_id == child.id)).all():
                approval.status, approval.reviewed_at = ApprovalStatus.approved, utcnow()
                session.add(approval)
            del reflection
        session.commit()

    counts, sizes = [], []
    for n in (1, 6):
        add_items(n)
        session.expire_all()
        with count_queries() as counter:
            digest = digests.compose_digest(session=session, settings=settings, guardian=guardian,
                                            period_start=start, period_end=utcnow() + timedelta(seconds=1))
        counts.append(counter.count)
        sizes.append(digest.item_count)
    assert sizes[1] > sizes[0] > 0
    assert counts[0] == counts[1], counts


def test_two_runs_at_once_send_each_digest_once(app, session, settings, inbox):
    import threading

    from sqlmodel import Session

    world = _world(session)
    now = _week_later(world)
    reports, barrier = [], threading.Barrier(2)

    def run():
        with Session(app.state.engine) as own:
            barrier.wait()
            reports.append(digests.send_due(session=own, settings=settings, now=now))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(reports) == 2
    assert len(inbox.to("pat@example.org")) == 1 and len(inbox.to("gran@example.org")) == 1
    assert sum(report.sent for report in reports) == 2
    assert len(session.exec(select(DigestLog)).all()) == 2


def test_a_guardian_without_children_gets_a_plain_preview(client, session):
    guardian = make_user(session, make_school(session), Role.guardian)
    login(client, guardian)
    page = client.get("/family/digest")
    assert page.status_code == 200
    assert "Folio: your family digest" in page.text and "No children are linked to your account yet." in page.text
    assert "No email address yet" in page.text

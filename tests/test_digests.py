"""Family digests: what each guardian is told, when, in which language; the preview; the settings link.

Sending (claims, overlapping runs, failures, the message as received) is in test_digest_sending.py."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_date
from sqlmodel import select

from app import i18n
from app.models import (
    ApprovalStatus, Audience, DigestLog, ItemApproval, ItemType, Role, School,
)
from app.models.base import utcnow
from app.services.badges import issuing
from app.services.family import digests
from app.services.portfolio.goals import achieve_goal
from tests.digest_world import (  # noqa: F401 - fixtures
    SECRETS, award_credential, build_world, inbox, link, make_goal, make_photo, settings, smtp_server,
    teacher_comment, week_later,
)
from tests.factories import login, make_class, make_framework, make_note, make_reflection, make_school, make_user
from tests.test_mail import parts


def _text(message):
    text, html = parts(message)
    return text.replace("\r\n", "\n"), html


# --- content ------------------------------------------------------------------------------------------


def test_each_guardian_hears_about_their_own_children_only(session, settings, inbox):
    world = build_world(session)
    report = digests.send_due(session=session, settings=settings, now=week_later(world))
    assert (report.sent, report.failed) == (2, 0)

    (message,) = inbox.to("pat@example.org")
    assert message["Subject"] == "Folio: what Leo and Maya shared this week"
    text, html = _text(message)
    for part in (text, html):
        assert "Leo approved dance" in part
        assert "Read ten books" in part  # the achieved goal
        assert "I read every evening before bed." in part  # in the child's own words
        assert "Your imagery is vivid." in part and "Ms Rivera" in part  # the teacher's words, as plain words
        assert f"http://testserver/artefacts/{world.items['poem'].id}" in part
        assert f"http://testserver/goals/{world.items['goal'].id}" in part
        assert "http://testserver/family" in part and "http://testserver/digest/settings/" in part
        assert "Maya wrote a note" in part
        assert "(Note)" not in part and "(File)" not in part
        for secret in SECRETS:
            assert secret not in part, secret
    assert "Poem: Sun & <Sky>" in text  # plain text is not HTML-escaped
    assert "Poem: Sun &amp; &lt;Sky&gt;" in html and "<Sky>" not in html
    assert html.count('href="http://testserver/family"') == 1  # one clear button back to Folio
    assert "http://" not in html.replace("http://testserver", "")  # nothing from elsewhere

    (grans,) = inbox.to("gran@example.org")
    text, _html = _text(grans)
    assert grans["Subject"] == "Folio: what Zed shared this week"
    assert "Zed family drawing" in text and "Maya" not in text and "Leo" not in text

    logs = {log.guardian_id: log for log in session.exec(select(DigestLog)).all()}
    assert set(logs) == {world.parent.id, world.gran.id}
    assert {log.state for log in logs.values()} == {"sent"}
    assert digests.aware(logs[world.parent.id].period_start) == world.t0
    assert digests.aware(logs[world.parent.id].period_end) == week_later(world)


def test_an_achieved_goal_is_told_once_with_its_closing_words(session, settings, inbox):
    world = build_world(session)
    digests.send_due(session=session, settings=settings, now=week_later(world))
    (message,) = inbox.to("pat@example.org")
    text, html = _text(message)
    for part in (text, html):
        # It used to come twice: as the closing reflection ("Achieved: Read ten books") and under "Goals achieved".
        assert part.count("Read ten books") == 1
        assert part.count("I read every evening before bed.") == 1
        assert "Maya reached a goal" in part
    assert f"/reflections/{world.items['closing'].id}" not in text
    log = session.exec(select(DigestLog).where(DigestLog.guardian_id == world.parent.id)).one()
    assert log.item_count == 4  # poem, dance, the goal (with its words), one teacher's comment


def test_an_item_approved_later_comes_in_the_digest_of_its_approval(session, settings, inbox):
    world = build_world(session)
    digests.send_due(session=session, settings=settings, now=week_later(world))
    approval = session.exec(select(ItemApproval).where(ItemApproval.item_id == world.items["song"].id)).one()
    approval.status, approval.reviewed_at = ApprovalStatus.approved, week_later(world) + timedelta(days=1)
    session.add(approval)
    session.commit()
    digests.send_due(session=session, settings=settings, now=week_later(world) + timedelta(days=7))
    first, second = inbox.to("pat@example.org")
    assert "Leo unapproved song" not in _text(first)[0]
    assert "Leo unapproved song" in _text(second)[0]
    assert "Leo approved dance" not in _text(second)[0]  # told last week


def test_growth_is_told_in_plain_words(session, settings, inbox):
    from app.models import CompetencyRating, RatingSource, School

    world = build_world(session)
    framework = make_framework(session, session.exec(select(School)).first())
    competency = next(c for c in framework.competencies if c.code == "COM.1")
    level = {lv.label: lv for lv in framework.levels}
    for source, rater, label in ((RatingSource.teacher, world.teacher, "Developing"),
                                 (RatingSource.teacher, world.teacher, "Proficient"),  # the latest one is told
                                 (RatingSource.self, world.maya, "Extending")):
        session.add(CompetencyRating(student_id=world.maya.id, competency_id=competency.id, level_id=level[label].id,
                                     rated_by_id=rater.id, source=source))
        session.commit()
    digests.send_due(session=session, settings=settings, now=week_later(world))
    text, html = _text(inbox.to("pat@example.org")[0])
    for part in (text, html):
        assert "Ms Rivera sees Maya at “Proficient” in Communicating." in part
        assert "Proficient descriptor" in part
        assert "Maya sees themselves at “Extending” in Communicating." in part
        assert "Developing" not in part


def test_off_and_no_email_are_skipped(session, settings, inbox):
    world = build_world(session)
    world.parent.digest_frequency = "off"
    world.gran.email = None
    session.add_all([world.parent, world.gran])
    session.commit()
    report = digests.send_due(session=session, settings=settings, now=week_later(world))
    assert (report.sent, report.skipped) == (0, 2)
    assert inbox.received == []
    assert session.exec(select(DigestLog)).all() == []


def test_a_period_with_nothing_new_is_recorded_without_an_email(session, settings, inbox):
    school = make_school(session)
    child = make_user(session, school, Role.student, display_name="Quiet")
    make_note(session, child, title="Only private", audience=Audience.private)
    guardian = make_user(session, school, Role.guardian, email="quiet@example.org")
    link(session, guardian, child, utcnow() - timedelta(days=8))
    report = digests.send_due(session=session, settings=settings)
    assert (report.sent, report.empty) == (0, 1)
    assert inbox.received == []
    (log,) = session.exec(select(DigestLog)).all()
    assert (log.item_count, log.state, log.guardian_id) == (0, "empty", guardian.id)


# --- credentials ---------------------------------------------------------------------------------------


def _verify_url(credential):
    return f"http://testserver/badges/credentials/{credential.public_id}/verify"


def test_a_credential_awarded_in_the_period_is_told_with_its_verify_link(session, settings, inbox):
    world = build_world(session)
    swim = award_credential(session, settings, world.teacher, world.maya, "Swim fifty metres")
    before = award_credential(session, settings, world.teacher, world.maya, "Told last time",
                              issued_at=world.t0 - timedelta(days=1))
    after = award_credential(session, settings, world.teacher, world.maya, "Awarded next week",
                             issued_at=week_later(world) + timedelta(hours=1))
    revoked = award_credential(session, settings, world.teacher, world.maya, "Awarded by mistake")
    issuing.revoke(session=session, viewer=world.teacher, credential=revoked, reason="Wrong student")
    zeds = award_credential(session, settings, world.teacher, world.zed, "Zed juggles three balls")
    session.commit()
    school = session.get(School, world.maya.school_id).name

    digests.send_due(session=session, settings=settings, now=week_later(world))
    (message,) = inbox.to("pat@example.org")
    assert message["Subject"] == "Folio: what Leo and Maya shared this week"  # there is more than a credential
    text, html = _text(message)
    for part in (text, html):
        assert "Maya earned a credential" in part
        assert "Swim fifty metres" in part and _verify_url(swim) in part
        assert f"Issued by {school} on" in part
        assert "1 credential earned" in part  # in Maya's summary line
        for absent in (before, after, revoked, zeds):
            assert absent.achievement_name not in part and absent.public_id not in part
    log = session.exec(select(DigestLog).where(DigestLog.guardian_id == world.parent.id)).one()
    assert log.item_count == 5  # poem, dance, the goal, one teacher's comment and the credential

    (grans,) = inbox.to("gran@example.org")
    for part in _text(grans):
        assert "Zed juggles three balls" in part and _verify_url(zeds) in part
        assert swim.public_id not in part and "Swim fifty metres" not in part

    # The one awarded after the period comes in the next digest; none is told twice.
    digests.send_due(session=session, settings=settings, now=week_later(world) + timedelta(days=7))
    _first, second = inbox.to("pat@example.org")
    assert second["Subject"] == "Folio: Maya earned a credential this week"  # nothing shared this time
    for part in _text(second):
        assert "Awarded next week" in part and _verify_url(after) in part
        assert "Swim fifty metres" not in part


def test_a_digest_with_only_a_credential_goes_out(session, settings, inbox):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    child = make_user(session, school, Role.student, display_name="Quiet")
    make_class(session, school, teachers=[teacher], students=[child])
    guardian = make_user(session, school, Role.guardian, email="quiet@example.org")
    guardian.digest_frequency = "daily"
    session.add(guardian)
    session.commit()
    link(session, guardian, child, utcnow() - timedelta(days=2))
    credential = award_credential(session, settings, teacher, child, "Kind to everyone")

    report = digests.send_due(session=session, settings=settings)
    assert (report.sent, report.empty) == (1, 0)
    (message,) = inbox.to("quiet@example.org")
    assert message["Subject"] == "Folio: Quiet earned a credential today"
    for part in _text(message):
        assert "Kind to everyone" in part and _verify_url(credential) in part
        assert "Nothing new from Quiet" not in part
    (log,) = session.exec(select(DigestLog)).all()
    assert (log.item_count, log.state) == (1, "sent")


def test_a_period_with_only_a_revoked_credential_has_nothing_new(session, settings, inbox):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    child = make_user(session, school, Role.student)
    make_class(session, school, teachers=[teacher], students=[child])
    guardian = make_user(session, school, Role.guardian, email="quiet@example.org")
    link(session, guardian, child, utcnow() - timedelta(days=8))
    credential = award_credential(session, settings, teacher, child, "Awarded by mistake")
    issuing.revoke(session=session, viewer=teacher, credential=credential, reason="Wrong student")
    session.commit()
    report = digests.send_due(session=session, settings=settings)
    assert (report.sent, report.empty) == (0, 1)
    assert inbox.received == []


def test_the_preview_shows_the_credentials_of_the_next_digest(client, session, settings):
    world = build_world(session)
    credential = award_credential(session, settings, world.teacher, world.maya, "Swim fifty metres")
    login(client, world.parent)
    page = client.get("/family/digest").text
    assert "Maya earned a credential: Swim fifty metres" in page and _verify_url(credential) in page
    email = client.get("/family/digest/email").text
    assert f'href="{_verify_url(credential)}"' in email and "1 credential earned" in email


# --- when it is due -----------------------------------------------------------------------------------


def test_weekly_and_daily_are_due_after_their_interval(session, settings):
    school = make_school(session)
    child = make_user(session, school, Role.student)
    guardian = make_user(session, school, Role.guardian, email="g@example.org")
    t0 = utcnow() - timedelta(minutes=1)
    link(session, guardian, child, t0)

    def due(now):
        period = digests.next_period(session=session, guardian=guardian, now=now)
        assert period.end == now and period.claim is None
        return digests.is_due(frequency=guardian.digest_frequency, period_start=period.start, now=now)

    assert guardian.digest_frequency == "weekly"  # the default
    assert not due(t0 + timedelta(days=1))
    assert not due(t0 + timedelta(days=6))
    assert due(t0 + timedelta(days=7))
    # Linked long ago and never sent one: the first digest starts at the link, so nothing is left out.
    assert digests.next_period(session=session, guardian=guardian, now=t0 + timedelta(days=60)).start == t0

    guardian.digest_frequency = "daily"
    assert not due(t0 + timedelta(hours=12))
    assert due(t0 + timedelta(days=1))
    assert due(t0 + timedelta(hours=23, minutes=30))  # a cron job at the same hour, a bit early: still today's

    session.add(DigestLog(guardian_id=guardian.id, period_start=t0, period_end=t0 + timedelta(days=1), state="sent"))
    session.commit()
    # The next one starts where the last ended, however long ago that was.
    assert digests.next_period(session=session, guardian=guardian, now=t0 + timedelta(days=90)).start == \
        t0 + timedelta(days=1)
    assert not due(t0 + timedelta(days=1, hours=12))
    assert due(t0 + timedelta(days=2))

    guardian.digest_frequency = "off"
    assert not due(t0 + timedelta(days=30))


def test_daily_digests_through_send_due(session, settings, inbox):
    world = build_world(session)
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
    world = build_world(session)
    world.parent.locale = "es"
    world.gran.locale = "fr"
    session.add_all([world.parent, world.gran])
    session.commit()
    award_credential(session, settings, world.teacher, world.zed, "Juggling")
    now = week_later(world)
    i18n.set_locale("de" if "de" in i18n.available_locales() else "en")
    try:
        digests.send_due(session=session, settings=settings, now=now)
    finally:
        i18n.set_locale("en")
    (pats,) = inbox.to("pat@example.org")
    text, html = _text(pats)
    spanish_date = format_date(now.date(), "long", locale="es")
    assert spanish_date in text and spanish_date in html and format_date(now.date(), "long", locale="en") not in text
    assert format_date(utcnow().date(), "medium", locale="es") in text  # each card's day (shared today)
    assert '<html lang="es">' in html and "Abrir Folio" in html and "Maya escribió una nota" in text
    assert pats["Subject"] == "Folio: lo compartido por Leo y Maya esta semana"
    (grans,) = inbox.to("gran@example.org")
    assert format_date(now.date(), "long", locale="fr") in _text(grans)[0]
    for part in parts(grans):
        assert "Zed a obtenu une attestation" in part and "Vérifier cette attestation" in part
        assert "1 attestation obtenue" in part  # the summary line
    assert '<html lang="fr">' in parts(grans)[1]


# --- the preview --------------------------------------------------------------------------------------


def test_the_preview_is_the_next_email_from_the_same_code(session, settings, inbox, tmp_path, monkeypatch):
    import itsdangerous

    # The settings link is signed with the time it was made: the same second for both.
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: 1_800_000_000)
    world = build_world(session)
    photo = make_photo(session, settings, tmp_path, world.maya)
    credential = award_credential(session, settings, world.teacher, world.maya, "Swim fifty metres")
    now = week_later(world)
    preview = digests.preview_digest(session=session, settings=settings, guardian=world.parent, now=now)
    digests.send_due(session=session, settings=settings, now=now)
    (message,) = inbox.to("pat@example.org")
    text, html = _text(message)
    assert preview.subject == message["Subject"]
    assert preview.text == text.rstrip("\n")  # (MIME ends a part with a line break)
    assert preview.html.replace(f"/files/{photo.id}/small", f"cid:photo-{photo.id}@folio") == \
        html.replace("\r\n", "\n").rstrip("\n")
    assert "Our volcano" in preview.html and _verify_url(credential) in preview.html


def test_the_preview_page_shows_the_next_digest(client, new_client, session, settings):
    world = build_world(session)
    login(client, world.parent)
    page = client.get("/family/digest")
    assert page.status_code == 200
    assert "<h1>Your next digest</h1>" in page.text
    assert 'src="/family/digest/email"' in page.text
    assert "Leo approved dance" in page.text  # in the plain-text version
    assert "Zed family drawing" not in page.text and "Leo unapproved song" not in page.text
    assert "Weekly" in page.text and 'href="/account#email-heading"' in page.text
    assert format_date(utcnow().date(), "long", locale="en") in page.text

    email = client.get("/family/digest/email")
    assert email.status_code == 200 and email.text.startswith("<!doctype html>")
    assert "Leo approved dance" in email.text and "Read ten books" in email.text
    assert "Poem: Sun &amp; &lt;Sky&gt;" in email.text
    assert "frame-ancestors 'self'" in email.headers["content-security-policy"]
    assert "script-src" not in email.headers["content-security-policy"]  # default-src 'none': no scripts

    student = new_client()
    login(student, world.maya)
    assert student.get("/family/digest").status_code == 403
    assert student.get("/family/digest/email").status_code == 403
    assert new_client().get("/family/digest").status_code == 303  # sign in first


def test_a_guardian_without_children_gets_a_plain_preview(client, session):
    guardian = make_user(session, make_school(session), Role.guardian)
    login(client, guardian)
    page = client.get("/family/digest")
    assert page.status_code == 200
    assert "Folio: your family digest" in page.text and "No email address yet" in page.text
    assert "No children are linked to your account yet." in client.get("/family/digest/email").text


def test_the_family_page_of_a_child_who_shared_nothing(client, session):
    # Issue 15: "See everything … shares with you" was a 500 for a child with nothing shared.
    school = make_school(session)
    child = make_user(session, school, Role.student, display_name="Quiet")
    make_note(session, child, title="Only mine", audience=Audience.private)
    guardian = make_user(session, school, Role.guardian, email="q@example.org")
    link(session, guardian, child, utcnow())
    login(client, guardian)
    page = client.get(f"/family/children/{child.id}")
    assert page.status_code == 200 and "Quiet" in page.text and "Only mine" not in page.text


# --- the settings link --------------------------------------------------------------------------------


def test_the_settings_link_works_without_signing_in(new_client, session, settings, inbox):
    world = build_world(session)
    world.parent.locale = "es"
    session.add(world.parent)
    session.commit()
    digests.send_due(session=session, settings=settings, now=week_later(world))
    (message,) = inbox.to("pat@example.org")
    url = message["List-Unsubscribe"].strip("<>")
    assert url in _text(message)[0] and message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = url.removeprefix("http://testserver")
    assert "pat@example.org" not in path

    visitor = new_client()  # nobody signed in
    page = visitor.get(path)
    assert page.status_code == 200 and "¿Con qué frecuencia" in page.text  # in the family member's language
    assert 'value="weekly" aria-describedby="frequency-weekly-hint" checked' in page.text
    bad = visitor.post(path, data={"frequency": "hourly"})
    assert bad.status_code == 400 and 'class="field__error"' in bad.text
    assert visitor.post(path, data={"frequency": "daily"}).status_code == 200
    session.refresh(world.parent)
    assert world.parent.digest_frequency == "daily"
    # The mail app's unsubscribe button (RFC 8058): a POST with List-Unsubscribe=One-Click.
    assert visitor.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    session.refresh(world.parent)
    assert world.parent.digest_frequency == "off"

    for wrong in (path[:-3] + "abc", "/digest/settings/nonsense"):
        assert visitor.get(wrong).status_code == 404
        assert visitor.post(wrong, data={"frequency": "weekly"}).status_code == 404
    session.refresh(world.parent)
    assert world.parent.digest_frequency == "off"
    # A link sent to an address the account no longer has doesn't work.
    world.parent.email = "pat.new@example.org"
    session.add(world.parent)
    session.commit()
    assert visitor.get(path).status_code == 404


def test_the_settings_link_expires(new_client, session, settings, monkeypatch):
    import itsdangerous

    guardian = make_user(session, make_school(session), Role.guardian, email="old@example.org")
    path = digests.settings_url(settings=settings, guardian=guardian).removeprefix("http://testserver")
    assert new_client().get(path).status_code == 200
    later = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp",
                        lambda self: later(self) + 61 * 24 * 3600)
    assert new_client().get(path).status_code == 404


# --- queries ------------------------------------------------------------------------------------------


def test_composing_a_digest_takes_the_same_queries_for_few_or_many_items(session, settings, count_queries):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    child = make_user(session, school, Role.student)
    careful = make_class(session, school, teachers=[teacher], students=[child])
    careful.family_items_need_approval = True
    session.add(careful)
    guardian = make_user(session, school, Role.guardian)
    link(session, guardian, child, utcnow())
    start = utcnow() - timedelta(minutes=1)

    def add_items(n):
        for i in range(n):
            note = make_note(session, child, title=f"Note {i}", audience=Audience.family)
            make_reflection(session, child, title=f"Reflection {i}", audience=Audience.family)
            goal = make_goal(session, child, f"Goal {i}")
            achieve_goal(session=session, goal=goal, closing_text="Done well.")
            teacher_comment(session, teacher, child, ItemType.artefact, note.id, f"Well done {i}")
            award_credential(session, settings, teacher, child, f"Credential {i}")
            for approval in session.exec(select(ItemApproval).where(ItemApproval.owner_id == child.id)).all():
                approval.status, approval.reviewed_at = ApprovalStatus.approved, utcnow()
                session.add(approval)
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


def test_a_credential_per_child_adds_no_query_per_child(session, settings, count_queries):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    guardian = make_user(session, school, Role.guardian)
    start = utcnow() - timedelta(minutes=1)
    counts, sizes = [], []
    for added in (1, 3):  # one child, then four, each with a credential in the period
        for _ in range(added):
            child = make_user(session, school, Role.student)
            make_class(session, school, teachers=[teacher], students=[child])
            link(session, guardian, child, utcnow())
            award_credential(session, settings, teacher, child, "Kind to everyone")
        session.expire_all()
        with count_queries() as counter:
            digest = digests.compose_digest(session=session, settings=settings, guardian=guardian,
                                            period_start=start, period_end=utcnow() + timedelta(seconds=1))
        counts.append(counter.count)
        sizes.append(len(digest.with_news))
    assert sizes == [1, 4]
    assert all(len(child.credentials) == 1 for child in digest.children)
    assert counts[0] == counts[1], counts


def test_composing_a_digest_takes_the_same_queries_for_one_child_or_four(session, settings, count_queries):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    guardian = make_user(session, school, Role.guardian)
    start = utcnow() - timedelta(minutes=1)

    def add_child(index, *, careful):
        child = make_user(session, school, Role.student, display_name=f"Child {index}")
        school_class = make_class(session, school, teachers=[teacher], students=[child])
        school_class.family_items_need_approval = careful  # one child's class asks for approval, the others don't
        session.add(school_class)
        link(session, guardian, child, utcnow())
        note = make_note(session, child, title=f"Note of {index}", audience=Audience.family)
        make_reflection(session, child, title=f"Reflection of {index}", audience=Audience.family)
        make_note(session, child, title=f"Private of {index}", audience=Audience.private)
        goal = make_goal(session, child, f"Goal of {index}")
        achieve_goal(session=session, goal=goal, closing_text="Done well.")
        teacher_comment(session, teacher, child, ItemType.artefact, note.id, f"Well done {index}")
        for approval in session.exec(select(ItemApproval).where(ItemApproval.owner_id == child.id)).all():
            approval.status, approval.reviewed_at = ApprovalStatus.approved, utcnow()
            session.add(approval)
        session.commit()

    counts, told = [], []
    for indexes in ((0,), (1, 2, 3)):  # one child, then four, each with every kind of thing to tell
        for index in indexes:
            add_child(index, careful=index == 0)
        session.expire_all()
        with count_queries() as counter:
            digest = digests.compose_digest(session=session, settings=settings, guardian=guardian,
                                            period_start=start, period_end=utcnow() + timedelta(seconds=1))
        counts.append(counter.count)
        told.append(sorted((child.child.display_name, len(child.shared), len(child.achieved), len(child.highlights))
                           for child in digest.children))
    assert told[1] == [(f"Child {index}", 2, 1, 1) for index in range(4)]
    assert counts[0] == counts[1], counts

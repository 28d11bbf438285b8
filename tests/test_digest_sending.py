"""Sending family digests to a real SMTP server (aiosmtpd): the message as received, each digest exactly once
when runs overlap, nothing dropped after a long gap or a failure, a crash at worst resends once."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

from PIL import Image
from sqlmodel import Session, select

from app import cli
from app.models import Audience, DigestLog, Item, Role, School
from app.models.base import utcnow
from app.services.family import digests
from app.services.family.digests import sending
from tests.digest_world import (  # noqa: F401 - fixtures
    award_credential, build_world, inbox, link, make_photo, settings, smtp_server, week_later,
)
from tests.factories import make_class, make_note, make_reflection, make_school, make_user
from tests.test_mail import parts


def _logs(session, guardian):
    session.expire_all()
    return session.exec(select(DigestLog).where(DigestLog.guardian_id == guardian.id)
                        .order_by(DigestLog.period_start)).all()


# --- the message as received -------------------------------------------------------------------------


def test_lines_starting_with_from_arrive_as_written(session, settings, inbox):
    world = build_world(session)
    digests.send_due(session=session, settings=settings, now=week_later(world))
    raw = next(raw for *_rest, raw in inbox.received if b"pat@example.org" in raw)
    # smtplib's send_message wrote the body mbox-style: "From December 7…" arrived as ">From December 7…".
    assert b"\n>From" not in raw
    assert b"\r\nFrom December" in raw
    text, _html = parts(inbox.to("pat@example.org")[0])
    assert "\r\nFrom December" in text and ">From" not in text


def test_photos_are_carried_in_the_message_as_inline_images(session, settings, inbox, tmp_path):
    world = build_world(session)
    photo = make_photo(session, settings, tmp_path, world.maya, title="Our volcano")
    make_photo(session, settings, tmp_path, world.maya, title="Private photo", audience=Audience.private)
    digests.send_due(session=session, settings=settings, now=week_later(world))
    (message,) = inbox.to("pat@example.org")
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.iter_parts()
    assert html_part.get_content_type() == "text/html"
    assert len(images) == 1  # the private photo is not told, nor shown
    (image,) = images
    assert image.get_content_type() == "image/jpeg" and image.get_content_disposition() == "inline"
    assert image["Content-ID"] == f"<photo-{photo.id}@folio>"
    with Image.open(io.BytesIO(image.get_content())) as picture:
        assert picture.format == "JPEG" and 0 < picture.width <= 600
    html = html_part.get_content()
    assert f'src="cid:photo-{photo.id}@folio"' in html and 'alt="Our volcano"' in html
    assert "Private photo" not in html and "/files/" not in html  # nothing is loaded from a server
    # Photos first: the photo card comes before the notes.
    assert html.index("Our volcano") < html.index("Poem: Sun")
    assert "Maya added a photo" in plain.get_content() and "Our volcano" in plain.get_content()


def test_a_picture_a_shared_reflection_shows_is_carried_in_the_message(session, settings, inbox, tmp_path):
    world = build_world(session)
    # An imported journal post's photo: private on its own, seen with the post it is in.
    river = make_photo(session, settings, tmp_path, world.maya, title="river.png", audience=Audience.private)
    other = make_photo(session, settings, tmp_path, world.maya, title="second.png", audience=Audience.private)
    make_reflection(session, world.maya, title="At the river", audience=Audience.family,
                    body=f"We walked.\n\n![The river](/files/{river.id}/large)\n\n![Later](/files/{other.id}/large)")
    digests.send_due(session=session, settings=settings, now=week_later(world))
    (message,) = inbox.to("pat@example.org")
    _plain, related = message.iter_parts()
    html_part, *images = related.iter_parts()
    # Its first picture, carried in the message like the photos' thumbnails; never loaded from the server.
    assert [image["Content-ID"] for image in images] == [f"<photo-{river.id}@folio>"]
    assert images[0].get_content_type() == "image/jpeg" and images[0].get_content_disposition() == "inline"
    html = html_part.get_content()
    assert f'src="cid:photo-{river.id}@folio"' in html and 'alt="At the river"' in html
    assert "/files/" not in html and "river.png" not in html


# --- exactly once ------------------------------------------------------------------------------------


def test_two_overlapping_runs_with_a_slow_server_send_each_digest_once(app, session, settings, inbox):
    world = build_world(session)
    # A third family whose only news is a credential: its digest goes too, once.
    school = session.get(School, world.teacher.school_id)
    kim = make_user(session, school, Role.student, display_name="Kim")
    make_class(session, school, teachers=[world.teacher], students=[kim])
    aunt = make_user(session, school, Role.guardian, email="aunt@example.org")
    link(session, aunt, kim, world.t0)
    award_credential(session, settings, world.teacher, kim, "Kind to everyone")
    inbox.delay = 0.4  # each message takes a while: the second run starts while the first is sending
    now = week_later(world)
    reports, barrier = [], threading.Barrier(2)

    def run(at):
        with Session(app.state.engine) as own:
            barrier.wait()
            reports.append(digests.send_due(session=own, settings=settings, now=at))

    # cron's run and a manual one a few seconds later: each sees the digest due, for a slightly different period
    threads = [threading.Thread(target=run, args=(at,)) for at in (now, now + timedelta(seconds=3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(reports) == 2
    assert len(inbox.to("pat@example.org")) == 1 and len(inbox.to("gran@example.org")) == 1
    (aunts,) = inbox.to("aunt@example.org")
    assert aunts["Subject"] == "Folio: Kim earned a credential this week"
    assert sum(report.sent for report in reports) == 3
    assert sum(report.busy + report.not_due for report in reports) == 3  # the other run sent nothing
    assert [log.state for log in _logs(session, world.parent)] == ["sent"]
    assert [log.state for log in _logs(session, aunt)] == ["sent"]
    # A third run, a minute later (cron and a manual run), has nothing to send either.
    assert digests.send_due(session=session, settings=settings, now=now + timedelta(minutes=1)).sent == 0
    assert len(inbox.received) == 3


def test_a_run_after_a_long_gap_sends_everything_since_the_last_digest(session, settings, inbox):
    world = build_world(session)  # everything is shared in the first minutes after the families were linked
    first_run = world.t0 + timedelta(days=20)  # cron was down for weeks
    digests.send_due(session=session, settings=settings, now=first_run)
    text = parts(inbox.to("pat@example.org")[0])[0]
    assert "Leo approved dance" in text and "Poem: Sun & <Sky>" in text  # the first hours of that week too
    (log,) = _logs(session, world.parent)
    assert digests.aware(log.period_start) == world.t0

    later = make_note(session, world.maya, title="Shared on day 21", audience=Audience.family)
    item = session.get(Item, later.id)
    item.updated_at = first_run + timedelta(days=1)
    session.add(item)
    session.commit()
    second_run = first_run + timedelta(days=40)
    assert digests.send_due(session=session, settings=settings, now=second_run).sent == 1  # only Pat has news
    second = parts(inbox.to("pat@example.org")[1])[0]
    assert "Shared on day 21" in second and "Leo approved dance" not in second
    periods = [(digests.aware(log.period_start), digests.aware(log.period_end)) for log in _logs(session, world.parent)]
    assert periods == [(world.t0, first_run), (first_run, second_run)]  # contiguous: nothing between them


def test_a_refused_recipient_is_retried_and_only_they_are(session, settings, inbox):
    world = build_world(session)
    inbox.refuse.add("pat@example.org")
    now = week_later(world)
    report = digests.send_due(session=session, settings=settings, now=now)
    assert (report.sent, report.failed) == (1, 1)
    assert len(inbox.to("gran@example.org")) == 1 and inbox.to("pat@example.org") == []
    assert _logs(session, world.parent) == []  # the claim was let go

    inbox.refuse.clear()
    retry = digests.send_due(session=session, settings=settings, now=now + timedelta(hours=2))
    assert (retry.sent, retry.failed, retry.not_due) == (1, 0, 1)
    (message,) = inbox.to("pat@example.org")
    assert "Leo approved dance" in parts(message)[0]
    assert len(inbox.to("gran@example.org")) == 1


def test_a_server_dying_mid_batch_leaves_only_the_unsent_for_the_next_run(session, settings, inbox):
    world = build_world(session)
    school = session.get(School, world.zed.school_id)
    more = []
    for n in range(3):
        guardian = make_user(session, school, Role.guardian, email=f"family{n}@example.org")
        link(session, guardian, world.zed, world.t0)
        more.append(guardian)
    inbox.hang_up_after = 2  # Pat and Gran, then the server goes away
    now = week_later(world)
    report = digests.send_due(session=session, settings=settings, now=now)
    assert (report.sent, report.failed) == (2, 3)
    inbox.hang_up_after = None
    retry = digests.send_due(session=session, settings=settings, now=now + timedelta(minutes=5))
    assert (retry.sent, retry.failed) == (3, 0)
    recipients = sorted(message["To"] for message in inbox.messages)
    assert recipients == sorted(["pat@example.org", "gran@example.org"] + [g.email for g in more])  # each once


def test_a_crash_after_sending_resends_once_after_the_claim_timeout(session, settings, inbox, monkeypatch):
    world = build_world(session)
    now = week_later(world)
    finish = sending._finish

    def crash(**_kwargs):
        raise RuntimeError("killed between sending and recording")

    monkeypatch.setattr(sending, "_finish", crash)
    digests.send_due(session=session, settings=settings, now=now)
    assert len(inbox.received) == 2
    assert [log.state for log in _logs(session, world.parent)] == ["claimed"]
    monkeypatch.setattr(sending, "_finish", finish)

    soon = digests.send_due(session=session, settings=settings, now=now + timedelta(minutes=5))
    assert (soon.sent, soon.busy) == (0, 2)  # maybe still sending: not touched
    later = now + digests.CLAIM_TIMEOUT + timedelta(minutes=1)
    taken_over = digests.send_due(session=session, settings=settings, now=later)
    assert taken_over.sent == 2
    assert len(inbox.to("pat@example.org")) == 2  # at worst once more, never dropped
    (log,) = _logs(session, world.parent)
    assert log.state == "sent" and digests.aware(log.period_end) == now  # the same period, sent again
    assert digests.send_due(session=session, settings=settings, now=later + timedelta(minutes=1)).sent == 0
    assert len(inbox.received) == 4


def test_two_runs_finding_the_same_dead_claim_send_it_once(app, session, settings, inbox):
    world = build_world(session)
    now = week_later(world)
    session.add(DigestLog(guardian_id=world.parent.id, period_start=world.t0, period_end=now - timedelta(hours=2),
                          state="claimed", claimed_at=now - timedelta(hours=2), claimed_by="a-run-that-died"))
    session.commit()
    inbox.delay = 0.3
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
    assert len(inbox.to("pat@example.org")) == 1 and len(inbox.to("gran@example.org")) == 1
    (log,) = _logs(session, world.parent)
    assert log.state == "sent" and log.claimed_by != "a-run-that-died"


def test_cli_send_digests(session, settings, inbox, monkeypatch, capsys):
    school = make_school(session)
    child = make_user(session, school, Role.student, display_name="Ana")
    make_note(session, child, title="Ana's volcano", audience=Audience.family)
    guardian = make_user(session, school, Role.guardian, email="ana.family@example.org")
    link(session, guardian, child, utcnow() - timedelta(days=7))
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["send-digests"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0 and "Digests: 1 sent" in out and "Notification emails: 0 sent" in out
    (message,) = inbox.to("ana.family@example.org")
    assert "Ana's volcano" in parts(message)[0]
    assert cli.main(["send-digests"]) == 0
    assert len(inbox.received) == 1

    monkeypatch.setattr(cli, "get_settings", lambda: settings.model_copy(update={"smtp_host": ""}))
    assert cli.main(["send-digests"]) == 2
    assert "FOLIO_SMTP_HOST" in capsys.readouterr().err

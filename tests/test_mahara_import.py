"""Moving in from Mahara (issue 12), through the web: a Mahara export in the shape Mahara 18+ writes it
(tests/fixtures/mahara/leap2a.xml, namespaces as Mahara binds them) becomes files, reflections with their images,
goals, tagged résumé notes, showcases of its pages and collections, and the account's About me; the same export
again skips what is already here; every skipped entry is named; tags keep their case on every kind of item."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from pathlib import Path

import pytest
from sqlmodel import func, select

from app.main import create_app
from app.models import (
    Artefact, ArtefactKind, Goal, GoalStep, Job, JobStatus, Reflection, ReflectionArtefact, ReflectionStatus, Showcase,
    ShowcaseItem, ShowcaseItemType, User,
)
from app.routes import imports
from app.services.exports.leap2a import export_feed
from app.services.jobs import job_runs
from app.services.portfolio import tags as tag_service
from tests.factories import login, make_school, make_user, post_multipart
from tests.media import png
from tests.stored import job_result

pytestmark = pytest.mark.storage  # on the local folders and on an S3 server

FIXTURE = Path(__file__).parent / "fixtures" / "mahara" / "leap2a.xml"
NOTES = b"Depth: 40 cm\nSpeed: 0.8 m/s\n"


@pytest.fixture
def app(settings):
    application = create_app(settings)
    if not any(getattr(route, "path", None) == "/import" for route in application.routes):
        application.include_router(imports.router)
    yield application
    application.state.engine.dispose()


def mahara_zip(xml: bytes | None = None) -> bytes:
    """The export as Mahara zips it: leap2a.xml and files/<n>-<name>."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # dated, so the same export is the same bytes
        for name, data in (("leap2a.xml", xml if xml is not None else FIXTURE.read_bytes()),
                           ("files/0-notes.txt", NOTES), ("files/1-river.png", png())):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2025, 12, 2, 10, 40, 0)), data)
    return buffer.getvalue()


def run_jobs(app, settings, session) -> list[Job]:
    job_runs.run_pending(engine=app.state.engine, settings=settings)
    session.expire_all()
    return list(session.exec(select(Job).order_by(Job.id)).all())


def upload(client, data: bytes, **fields):
    return client.post("/import", files={"archive": ("mahara-export.zip", data, "application/zip")}, data=fields)


def counts(session, student) -> tuple[int, ...]:
    return tuple(session.exec(select(func.count()).select_from(model).where(model.owner_id == student.id)).one()
                 for model in (Artefact, Reflection, Goal, Showcase))


def imported(app, client, session, settings, student) -> Job:
    login(client, student)
    assert upload(client, mahara_zip()).status_code == 303
    job = run_jobs(app, settings, session)[-1]
    assert job.status is JobStatus.done, job.error
    return job


def test_a_mahara_export_moves_in(app, client, session, settings):
    student = make_user(session, make_school(session))
    job = imported(app, client, session, settings, student)
    # 2 files, a skill, 2 résumé rows, the page's loose text block; 2 posts; a plan and a résumé goal; 2 showcases
    assert counts(session, student) == (6, 2, 2, 2)

    # Journal posts: the image Mahara embedded is kept, at Folio's address of the imported file, and linked as
    # evidence with the attachment; an image from elsewhere is dropped.
    river = session.exec(select(Artefact).where(Artefact.owner_id == student.id, Artefact.title == "river.png")).one()
    notes = session.exec(select(Artefact).where(Artefact.owner_id == student.id, Artefact.title == "notes.txt")).one()
    posts = {r.title: r for r in session.exec(select(Reflection).where(Reflection.owner_id == student.id)).all()}
    trip = posts["At the river"]
    assert f"![The river](/files/{river.id}/large)" in trip.body and "tracker" not in trip.body
    assert set(session.exec(select(ReflectionArtefact.artefact_id).where(ReflectionArtefact.reflection_id == trip.id)).all()) \
        == {river.id, notes.id}
    assert posts["Book notes"].status is ReflectionStatus.draft and f"/files/{river.id}/large" in posts["Book notes"].body
    page = client.get(f"/reflections/{trip.id}").text
    assert f'<img src="/files/{river.id}/large" alt="The river">' in page
    assert "tracker.example.net" not in page and "#Field Trip" in page and "#Science" in page
    assert client.get(f"/files/{river.id}/large").status_code == 200

    # The résumé: a goal (titled by its first line), tagged notes for skills and each certification or job.
    goals = {g.title: g for g in session.exec(select(Goal).where(Goal.owner_id == student.id)).all()}
    assert set(goals) == {"Become a confident swimmer.", "Swim 1 km"}
    assert tag_service.tags_of(session=session, kind="goal", item_ids=[goals["Become a confident swimmer."].id]) \
        == {goals["Become a confident swimmer."].id: ["personal goal", "résumé"]}
    steps = session.exec(select(GoalStep).where(GoalStep.goal_id == goals["Swim 1 km"].id)).all()
    assert [(s.text, s.done) for s in steps] == [("Swim 200 m", True)]
    job_note = session.exec(select(Artefact).where(Artefact.title == "Lifeguard helper")).one()
    assert job_note.kind is ArtefactKind.note
    assert job_note.body == "Helping at the children's pool.\n\nFrom July 2025 to August 2025\n\nCity Pool"
    note_tags = tag_service.tags_of(session=session, kind="artefact", item_ids=[job_note.id])[job_note.id]
    assert note_tags == ["employment", "résumé"]
    assert "#employment" in client.get(f"/artefacts/{job_note.id}").text

    # The collection is one showcase, its pages' blocks in order: the text block under the photo is its talking
    # points, the next one a note; the journal block brings its posts. The page in no collection is its own.
    showcases = {s.title: s for s in session.exec(select(Showcase).where(Showcase.owner_id == student.id)).all()}
    assert set(showcases) == {"Year 9 portfolio", "My notes"}
    year = showcases["Year 9 portfolio"]
    assert year.introduction == "What I did in Year 9."
    entries = session.exec(select(ShowcaseItem).where(ShowcaseItem.showcase_id == year.id)
                           .order_by(ShowcaseItem.position)).all()
    boots = session.exec(select(Artefact).where(Artefact.title == "Next time")).one()
    assert [(e.item_type, e.item_id) for e in entries] == [
        (ShowcaseItemType.artefact, river.id), (ShowcaseItemType.artefact, boots.id),
        (ShowcaseItemType.reflection, trip.id), (ShowcaseItemType.goal, goals["Swim 1 km"].id),
        (ShowcaseItemType.reflection, posts["Book notes"].id)]
    assert entries[0].talking_points == "The water was **cold** and fast." and boots.body == "Bring boots."
    assert client.get(f"/showcases/{year.id}").status_code == 200

    # The profile's introduction is the account's About me, shown on the Account page.
    session.refresh(student)
    assert student.about == "I am Ana. I like **rivers** and swimming."
    assert "I am Ana. I like <strong>rivers</strong> and swimming." in client.get("/account").text

    summary = job_result(settings, job).decode()
    assert "2 showcases" in summary and "Your About me from Mahara is on your Account page." in summary


SUMMARY = """What was imported

6 pieces of evidence
2 reflections
2 goals
2 showcases
Your About me from Mahara is on your Account page.

3 entries weren't imported:
- Comment “Great photos!”: comments aren't imported.
- Career goal “Career goals”: it is empty.
- Page “Profile page”: Mahara's dashboard and profile pages aren't showcases.
"""


def test_the_summary_names_every_skipped_entry_with_its_type_title_and_why(app, client, session, settings):
    student = make_user(session, make_school(session))
    job = imported(app, client, session, settings, student)
    assert job_result(settings, job).decode() == SUMMARY


def test_the_same_export_again_skips_what_is_already_here(app, client, session, settings):
    student = make_user(session, make_school(session))
    imported(app, client, session, settings, student)
    before = counts(session, student)

    again = upload(client, mahara_zip())
    assert again.status_code == 409
    assert 'value="skip"' in again.text and 'value="copies"' in again.text
    assert upload(client, mahara_zip(), again="skip").status_code == 303
    job = run_jobs(app, settings, session)[-1]
    assert job.status is JobStatus.done, job.error
    assert counts(session, student) == before, "nothing is added twice"
    summary = job_result(settings, job).decode()
    assert "0 pieces of evidence" in summary and "0 showcases" in summary
    assert "entries were already here from an earlier import, so they were skipped:" in summary
    for line in ("- Image “river.png”", "- Journal entry “At the river”", "- Plan “Swim 1 km”",
                 "- Personal goal “Personal goals”", "- Collection “Year 9 portfolio”", "- Page “My notes”",
                 "- About me “Introduction”"):
        assert line in summary

    # A later export of the same account (another file): what is new comes in, the rest is skipped without asking.
    later = FIXTURE.read_text().replace("<id>https://mahara.example.org/export/8/1764672000</id>",
                                        "<id>https://mahara.example.org/export/8/1766000000</id>")
    later = later.replace("</feed>", """    <entry>
        <title>Back at school</title>
        <id>portfolio:artefact187</id>
        <updated>2025-12-01T10:00:00+01:00</updated>
        <published>2025-12-01T10:00:00+01:00</published>
        <content type="html">&lt;p&gt;New term.&lt;/p&gt;</content>
        <rdf:type rdf:resource="leap2:entry"/>
        <mahara:artefactplugin mahara:type="blogpost" mahara:plugin="blog"/>
        <link rel="leap2:is_part_of" href="portfolio:artefact40"/>
    </entry>
</feed>""")
    assert upload(client, mahara_zip(later.encode())).status_code == 303
    job = run_jobs(app, settings, session)[-1]
    assert job.status is JobStatus.done, job.error
    artefacts, reflections, goals, showcases = counts(session, student)
    assert (artefacts, reflections, goals, showcases) == (before[0], before[1] + 1, before[2], before[3])
    assert "1 reflection\n" in job_result(settings, job).decode()

    # Asked for copies: everything again.
    assert upload(client, mahara_zip(), again="copies").status_code == 303
    assert run_jobs(app, settings, session)[-1].status is JobStatus.done
    assert counts(session, student)[3] == 2 * before[3]


def test_skipping_is_refused_for_a_folio_archive_with_the_reason(app, client, session, settings):
    student = make_user(session, make_school(session))
    login(client, student)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("portfolio.json", "{}")
    assert upload(client, buffer.getvalue(), again="skip").status_code == 303
    [job] = run_jobs(app, settings, session)
    assert job.status is JobStatus.failed and "works for Mahara exports" in job.error


def test_a_failed_import_is_logged_with_its_reason(app, client, session, settings, caplog):
    student = make_user(session, make_school(session))
    login(client, student)
    with caplog.at_level(logging.WARNING, logger="app.services.exports.import_job"):
        assert upload(client, b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>").status_code == 303
        [job] = run_jobs(app, settings, session)
    assert job.status is JobStatus.failed
    logged = [r.getMessage() for r in caplog.records if r.name == "app.services.exports.import_job"]
    assert any(f"Import job {job.id} into student {student.id} failed" in m and "damaged" in m for m in logged), logged


def test_tags_keep_their_case_and_are_editable_on_reflections_and_goals(app, client, session, settings):
    student = make_user(session, make_school(session))
    imported(app, client, session, settings, student)
    trip = session.exec(select(Reflection).where(Reflection.title == "At the river")).one()
    form = client.get(f"/reflections/{trip.id}/edit").text
    assert re.search(r'name="tags"[^>]*value="Field Trip, Science"', form), "the form shows the tags"
    response = post_multipart(client, f"/reflections/{trip.id}/edit", {
        "title": trip.title, "body": trip.body, "audience": "private", "action": "publish",
        "version": str(trip.version), "tags": "field trip, Rivers, rivers"})
    assert response.status_code == 303, response.text
    # "field trip" is the tag "Field Trip" already there, whatever the case it was typed in.
    assert tag_service.tags_of(session=session, kind="reflection", item_ids=[trip.id])[trip.id] == ["Field Trip", "Rivers"]
    assert "#Rivers" in client.get(f"/reflections/{trip.id}").text
    too_many = ", ".join(f"t{n}" for n in range(tag_service.MAX_TAGS + 1))
    refused = post_multipart(client, f"/reflections/{trip.id}/edit", {
        "title": trip.title, "body": trip.body, "audience": "private", "action": "publish",
        "version": str(session.get(Reflection, trip.id).version), "tags": too_many})
    assert refused.status_code == 422 and "Use at most 12 tags." in refused.text
    assert tag_service.tags_of(session=session, kind="reflection", item_ids=[trip.id])[trip.id] == ["Field Trip", "Rivers"]

    goal = session.exec(select(Goal).where(Goal.title == "Swim 1 km")).one()
    assert 'value="Sport"' in client.get(f"/goals/{goal.id}/edit").text
    saved = client.post(f"/goals/{goal.id}/edit", data={
        "title": goal.title, "why": goal.why, "audience": "private", "version": str(goal.version),
        "tags": "Sport, Summer Plans"})
    assert saved.status_code == 303, saved.text
    assert tag_service.tags_of(session=session, kind="goal", item_ids=[goal.id])[goal.id] == ["Sport", "Summer Plans"]
    assert "#Summer Plans" in client.get(f"/goals/{goal.id}").text
    # The timeline's tag filter finds the reflection and the goal too, whatever the case typed.
    timeline = client.get("/student", params={"tag": "summer plans"}).text
    assert "Swim 1 km" in timeline and "At the river" not in timeline
    # Folio's own Leap2A export carries them, as Mahara does.
    feed = export_feed(session=session, settings=settings, student=student).decode()
    assert '<category term="Summer Plans" />' in feed and '<category term="Rivers" />' in feed


def test_about_me_is_shown_and_editable_on_the_account_page(client, session):
    student = make_user(session, make_school(session))
    login(client, student)
    assert client.post("/account/about", data={"about": "I like *maps*."}).status_code == 303
    assert "I like <em>maps</em>." in client.get("/account").text
    refused = client.post("/account/about", data={"about": "x" * 5001})
    assert refused.status_code == 422 and "Use at most 5000 characters" in refused.text
    session.expire_all()
    assert session.get(User, student.id).about == "I like *maps*."

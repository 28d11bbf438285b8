"""Importing through the web: the form, the streamed upload, the "import" job, Mahara files, and who may import for whom."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlmodel import func, select

from app import storage
from app.config import Settings
from app.main import create_app
from app.models import Artefact, Goal, Job, JobStatus, Reflection, Role
from app.routes import imports
from app.services.exports import archive_export
from app.services.jobs import job_runs, jobs
from tests.factories import login, make_framework, make_school, make_user
from tests.media import png
from tests.test_archive_roundtrip import rich_portfolio
from tests.stored import job_result, stored_keys

LEAP2A = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns:leap2="http://terms.leapspecs.org/" xmlns:categories="http://wiki.leapspecs.org/2A/categories/">
  <leap2:version>http://www.leapspecs.org/2010-07/2A/</leap2:version>
  <id>http://mahara.example/export/1</id>
  <title>Mahara export</title>
  <updated>2026-01-10T10:00:00Z</updated>
  <author><name>Maya</name></author>
  <entry>
    <id>portfolio:blog1</id><title>My journal</title><updated>2026-01-10T10:00:00Z</updated>
    <rdf:type rdf:resource="leap2:selection"/>
    <category term="Blog" scheme="categories:selection_type#"/>
    <link rel="leap2:has_part" href="portfolio:post1"/>
  </entry>
  <entry>
    <id>portfolio:post1</id><title>Week one</title><updated>2026-01-09T10:00:00Z</updated>
    <rdf:type rdf:resource="leap2:entry"/>
    <content type="html">&lt;p&gt;I learned about &lt;b&gt;volcanoes&lt;/b&gt;&lt;/p&gt;</content>
    <link rel="leap2:is_part_of" href="portfolio:blog1"/>
  </entry>
  <entry>
    <id>portfolio:plan1</id><title>Run a 5k</title><updated>2026-01-08T10:00:00Z</updated>
    <rdf:type rdf:resource="leap2:plan"/>
    <content type="text">Get fit</content>
  </entry>
  <entry>
    <id>portfolio:file1</id><title>Drawing</title><updated>2026-01-08T10:00:00Z</updated>
    <rdf:type rdf:resource="leap2:resource"/>
    <content src="files/drawing.png" type="image/png"/>
  </entry>
</feed>
"""


@pytest.fixture
def app(settings: Settings):
    """The app, with the imports router included if the lead hasn't registered it yet."""
    application = create_app(settings)
    if not any(getattr(route, "path", None) == "/import" for route in application.routes):
        application.include_router(imports.router)
    yield application
    application.state.engine.dispose()


def counts(session, student) -> tuple[int, int, int]:
    session.expire_all()
    return tuple(session.exec(select(func.count()).select_from(model).where(model.owner_id == student.id)).one()
                 for model in (Artefact, Reflection, Goal))


pytestmark = pytest.mark.storage  # on the local folders and on an S3 server


def incoming(settings) -> list:
    """Archives waiting for their import, in the job file store, and any partial one on local disk."""
    folder = settings.jobs_dir / "incoming"
    local = sorted(str(p) for p in folder.iterdir() if p.name.startswith(".")) if folder.exists() else []
    return storage.job_files(settings).list("incoming/") + local


def upload(client, url: str, name: str, data: bytes, content_type: str = "application/zip"):
    return client.post(url, files={"archive": (name, data, content_type)})


def run_jobs(app, settings, session) -> list[Job]:
    job_runs.run_pending(engine=app.state.engine, settings=settings)
    session.expire_all()
    return list(session.exec(select(Job).order_by(Job.id)).all())


def folio_zip(session, settings, tmp_path) -> bytes:
    student, _items = rich_portfolio(session, settings, tmp_path)
    path = tmp_path / "archive.zip"
    archive_export.build_archive(session=session, settings=settings, student=student, out_path=path)
    return path.read_bytes()


def test_the_import_page_explains_what_happens(client, session):
    student = make_user(session, make_school(session))
    login(client, student)
    response = client.get("/import")
    assert response.status_code == 200
    assert "Feedback and teachers&#39; ratings" in response.text or "Feedback and teachers' ratings" in response.text
    assert 'enctype="multipart/form-data"' in response.text and 'name="archive"' in response.text


def test_a_student_imports_a_folio_archive(app, client, session, settings, tmp_path):
    data = folio_zip(session, settings, tmp_path)
    school = make_school(session, "New School")
    student = make_user(session, school)
    make_framework(session, school)
    login(client, student)
    response = upload(client, "/import", "Maya Chen – Folio archive.zip", data)
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
    assert len(incoming(settings)) == 1
    [job] = run_jobs(app, settings, session)
    assert job.status is JobStatus.done, job.error
    assert job.owner_id == student.id and job.params["student_id"] == student.id
    assert counts(session, student) == (6, 3, 2)  # five artefacts + the history note; the closing reflection too
    assert incoming(settings) == [], "the upload is deleted once imported"
    summary = job_result(settings, job).decode()
    assert "What was imported" in summary and "3 reflections" in summary


def test_a_bad_archive_fails_the_job_with_the_reason_and_imports_nothing(app, client, session, settings):
    student = make_user(session, make_school(session))
    login(client, student)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("portfolio.json", "{}")
        archive.writestr("../../evil.txt", "gotcha")
    response = upload(client, "/import", "evil.zip", buffer.getvalue())
    assert response.status_code == 303
    [job] = run_jobs(app, settings, session)
    assert job.status is JobStatus.failed and "leads outside its folder" in job.error
    assert counts(session, student) == (0, 0, 0)
    assert incoming(settings) == []
    assert not list(settings.data_dir.parent.rglob("evil.txt"))


def test_a_mahara_leap2a_file_and_zip_are_imported(app, client, session, settings):
    student = make_user(session, make_school(session))
    login(client, student)
    assert upload(client, "/import", "leap2a.xml", LEAP2A, "text/xml").status_code == 303
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("leap2a.xml", LEAP2A)
        archive.writestr("files/drawing.png", png())
    assert upload(client, "/import", "mahara-export.zip", buffer.getvalue()).status_code == 303
    done = run_jobs(app, settings, session)
    assert [job.status for job in done] == [JobStatus.done, JobStatus.done], [job.error for job in done]
    artefacts, reflections, goals = counts(session, student)
    # The ZIP is the same Mahara export: what the .xml brought in is skipped, the drawing (only in the ZIP) added.
    assert reflections == 1 and goals == 1 and artefacts == 1
    summary = job_result(settings, done[1]).decode()
    assert "- Journal entry “Week one”" in summary and "- Plan “Run a 5k”" in summary
    assert session.exec(select(Reflection).where(Reflection.owner_id == student.id)).first().title == "Week one"


def test_files_that_are_not_zip_or_xml_are_refused_at_upload(client, session, settings):
    student = make_user(session, make_school(session))
    login(client, student)
    response = upload(client, "/import", "photo.zip", png())
    assert response.status_code == 422
    assert "a Leap2A .xml file, so Folio can" in response.text
    assert incoming(settings) == []
    assert session.exec(select(func.count()).select_from(Job)).one() == 0


def test_an_empty_form_asks_for_a_file(client, session, settings):
    student = make_user(session, make_school(session))
    login(client, student)
    response = client.post("/import", files={"archive": ("", b"", "application/octet-stream")})
    assert response.status_code == 422 and "Choose the file to import" in response.text


def test_oversized_uploads_are_refused_and_nothing_is_stored(client, session, settings):
    settings.import_max_mb = 1
    student = make_user(session, make_school(session))
    login(client, student)
    over = b"PK\x03\x04" + bytes(1536 * 1024)  # 1.5 MB: over the file limit, under the whole-form limit
    response = upload(client, "/import", "big.zip", over)
    assert response.status_code == 422 and "the largest archive Folio imports is" in response.text
    far_over = b"PK\x03\x04" + bytes(3 * 1024 * 1024)  # over the whole-form limit: refused before reading
    response = upload(client, "/import", "huge.zip", far_over)
    assert response.status_code == 413 and "larger than Folio imports (1 MB)" in response.text
    assert incoming(settings) == []
    assert not list((settings.jobs_dir / "incoming").glob(".*")) if (settings.jobs_dir / "incoming").exists() else True
    assert session.exec(select(func.count()).select_from(Job)).one() == 0


# --- who may import for whom -----------------------------------------------------------------------------------


def test_an_admin_imports_for_a_student_of_their_school(app, client, session, settings, tmp_path):
    data = folio_zip(session, settings, tmp_path)
    school = make_school(session, "Admin School")
    admin = make_user(session, school, Role.admin)
    student = make_user(session, school)
    login(client, admin)
    page = client.get(f"/people/{student.id}/import")
    assert page.status_code == 200 and student.display_name in page.text
    response = upload(client, f"/people/{student.id}/import", "archive.zip", data)
    assert response.status_code == 303
    [job] = run_jobs(app, settings, session)
    assert job.status is JobStatus.done, job.error
    assert job.owner_id == admin.id
    assert counts(session, student)[0] == 6
    assert counts(session, admin) == (0, 0, 0)


@pytest.mark.parametrize("who", ["teacher", "student", "other_admin", "admin_on_teacher"])
def test_nobody_else_reaches_the_admin_import(client, session, settings, who):
    school = make_school(session)
    student = make_user(session, school)
    teacher = make_user(session, school, Role.teacher)
    users = {
        "teacher": (teacher, student),
        "student": (make_user(session, school), student),
        "other_admin": (make_user(session, make_school(session), Role.admin), student),
        "admin_on_teacher": (make_user(session, school, Role.admin), teacher),
    }
    actor, target = users[who]
    login(client, actor)
    assert client.get(f"/people/{target.id}/import").status_code == 404
    assert upload(client, f"/people/{target.id}/import", "a.zip", b"PK\x03\x04rest").status_code == 404
    assert client.get("/people/999999/import").status_code == 404
    assert incoming(settings) == []


def test_a_student_cannot_import_into_someone_else_through_the_job(app, session, settings):
    """Even a hand-made job can't reach another student: the handler checks the owner."""
    school = make_school(session)
    student, victim = make_user(session, school), make_user(session, school)
    store = storage.job_files(settings)
    waiting = store.new_scratch_path()
    waiting.write_bytes(LEAP2A)
    store.put_file("incoming/abc.xml", waiting)
    job = jobs.enqueue(session=session, owner=student, kind="import",
                       params={"student_id": victim.id, "upload": "abc.xml", "original_name": "x.xml"})
    job_runs.run_pending(engine=app.state.engine, settings=settings)
    session.expire_all()
    job = session.get(Job, job.id)
    assert job.status is JobStatus.failed
    assert counts(session, victim) == (0, 0, 0)
    assert not store.exists("incoming/abc.xml")


def test_teachers_and_guardians_have_no_import_page(client, session):
    teacher = make_user(session, make_school(session), Role.teacher)
    login(client, teacher)
    assert client.get("/import").status_code == 403


def test_a_mahara_export_zipped_again_is_unwrapped_once(app, client, session, settings):
    student = make_user(session, make_school(session))
    login(client, student)
    inner, outer = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("leap2a.xml", LEAP2A)
        archive.writestr("files/drawing.png", png())
    with zipfile.ZipFile(outer, "w") as archive:
        archive.writestr("mahara-export-maya.zip", inner.getvalue())
    assert upload(client, "/import", "download.zip", outer.getvalue()).status_code == 303
    [job] = run_jobs(app, settings, session)
    assert job.status is JobStatus.done, job.error
    assert counts(session, student) == (1, 1, 1)


def test_a_small_archive_of_many_highly_compressed_files_is_refused_before_anything_is_written(
        app, client, session, settings, monkeypatch):
    """300 files of 1 MB of zeros pack to about 315 KB: each file is under the per-file ratio floor, so only the
    ratio of the archive as a whole (300 MB from 315 KB) gives it away, and it must before anything is extracted."""
    from app.services.exports import safe_zip

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("leap2a.xml", LEAP2A)
        for number in range(300):
            archive.writestr(f"files/zeros-{number:03}.bin", bytes(1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 400_000
    written: list[int] = []
    real_copy = safe_zip._copy_entry

    def counting_copy(archive, info, target, *, budget):
        real_copy(archive, info, target, budget=budget)
        written.append(target.stat().st_size)

    monkeypatch.setattr(safe_zip, "_copy_entry", counting_copy)
    student = make_user(session, make_school(session))
    login(client, student)
    response = upload(client, "/import", "mahara-export.zip", data)
    assert response.status_code == 303
    [job] = run_jobs(app, settings, session)
    assert job.status is JobStatus.failed
    assert "zip bomb" in job.error and "unpacks to" in job.error
    assert written == [], f"{sum(written)} bytes were extracted before the archive was refused"
    assert counts(session, student) == (0, 0, 0)
    assert incoming(settings) == []
    leftovers = [p for root in (settings.upload_dir, settings.jobs_dir) if root.exists()
                 for p in root.rglob("*") if p.is_file()]
    assert leftovers == [] and stored_keys(settings) == [] and storage.job_files(settings).list() == []

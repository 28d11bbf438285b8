"""Export pages: the student's export page and its forms, a class's PDFs for teachers, and the job progress page."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from app.main import create_app
from app.models import Job, JobStatus, Role, Showcase
from app.models.base import utcnow
from app.services.jobs import job_runs, jobs
from tests.factories import login, make_class, make_school, make_user

SECTIONS = ["goals", "reflections", "evidence", "feedback", "competencies", "credentials"]


@jobs.handler("test_export_echo")
def run_export_echo(*, session, settings, job, progress):
    progress(1, 1, "Writing")
    path = jobs.result_path(settings, job, ".pdf")
    path.write_bytes(b"%PDF-1.7 test")
    return jobs.JobResult(path=path, download_name="Maya Chen - portfolio.pdf", content_type="application/pdf")


@pytest.fixture
def app(settings):
    """The app, with the exports router even before it is listed in app.routes.ROUTERS."""
    from app.routes import ROUTERS, exports

    application = create_app(settings)
    if exports.router not in ROUTERS:
        application.include_router(exports.router)
    yield application
    application.state.engine.dispose()


def people(session):
    """A class with its teacher and a student; a teacher and a student of another class of the same school."""
    school = make_school(session)
    teacher, other_teacher = make_user(session, school, Role.teacher), make_user(session, school, Role.teacher)
    student, other_student = make_user(session, school), make_user(session, school)
    school_class = make_class(session, school, teachers=[teacher], students=[student])
    make_class(session, school, teachers=[other_teacher], students=[other_student])
    return school_class, teacher, other_teacher, student, other_student


def showcase_of(session, owner, title="Best work") -> Showcase:
    showcase = Showcase(owner_id=owner.id, title=title)
    session.add(showcase)
    session.commit()
    return showcase


def job_from(response, session) -> Job:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/jobs/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    session.expire_all()
    return session.get(Job, int(match.group(1)))


def all_jobs(session) -> list[Job]:
    session.expire_all()
    return list(session.exec(select(Job)).all())


# --- the student's export page ---------------------------------------------------------------------------

def test_the_export_page_offers_every_export(client, session):
    _class, _teacher, _other_teacher, student, _other = people(session)
    showcase = showcase_of(session, student, "Science fair")
    login(client, student)
    page = client.get("/exports")
    assert page.status_code == 200
    assert "<h1>Export your portfolio</h1>" in page.text
    for section in SECTIONS:
        assert re.search(rf'<input type="checkbox" id="section-{section}" name="sections" value="{section}"[^>]* checked>',
                         page.text), section
    assert 'action="/exports/pdf"' in page.text and 'action="/exports/archive"' in page.text
    assert f'action="/exports/showcases/{showcase.id}"' in page.text and "Science fair" in page.text
    assert 'href="/import"' in page.text
    assert "Nothing exported yet." in page.text


def test_the_export_page_is_for_students(client, session):
    _class, teacher, *_rest = people(session)
    login(client, teacher)
    assert client.get("/exports").status_code == 403
    assert client.post("/exports/archive").status_code == 403
    assert all_jobs(session) == []


def test_a_portfolio_pdf_needs_at_least_one_section(client, session):
    *_rest, student, _other = people(session)
    login(client, student)
    response = client.post("/exports/pdf", data={})
    assert response.status_code == 422
    assert "Choose at least one part to include." in response.text
    assert 'aria-describedby="section-error"' in response.text
    response = client.post("/exports/pdf", data={"sections": ["bogus"]})
    assert response.status_code == 422
    assert all_jobs(session) == []


def test_a_portfolio_pdf_is_queued_with_the_chosen_sections(client, session):
    *_rest, student, _other = people(session)
    login(client, student)
    job = job_from(client.post("/exports/pdf", data={"sections": ["feedback", "goals", "bogus"]}), session)
    assert job.kind == "portfolio_pdf" and job.owner_id == student.id and job.status is JobStatus.queued
    assert job.params == {"sections": ["goals", "feedback"], "showcase_id": None}


def test_a_showcase_pdf_only_for_ones_own_showcase(client, session):
    *_rest, student, other_student = people(session)
    mine, theirs = showcase_of(session, student), showcase_of(session, other_student)
    login(client, student)
    job = job_from(client.post(f"/exports/showcases/{mine.id}"), session)
    assert job.kind == "portfolio_pdf" and job.params["showcase_id"] == mine.id
    assert client.post(f"/exports/showcases/{theirs.id}").status_code == 404
    assert client.post("/exports/showcases/99999999999").status_code == 404
    assert len(all_jobs(session)) == 1


def test_the_archive_is_queued_for_the_student(client, session):
    *_rest, student, _other = people(session)
    login(client, student)
    job = job_from(client.post("/exports/archive"), session)
    assert job.kind == "archive" and job.params == {"student_id": student.id} and job.owner_id == student.id


def test_recent_jobs_are_listed_with_their_downloads(app, client, session, settings, count_queries):
    *_rest, student, _other = people(session)
    login(client, student)
    ready = jobs.enqueue(session=session, owner=student, kind="test_export_echo", params={})
    job_runs.run_pending(engine=app.state.engine, settings=settings)
    with count_queries() as few:
        assert client.get("/exports").status_code == 200
    for _n in range(6):
        jobs.enqueue(session=session, owner=student, kind="portfolio_pdf", params={"sections": ["goals"]})
        showcase_of(session, student)
    with count_queries() as many:
        page = client.get("/exports")
    assert few.count == many.count
    assert f'href="/jobs/{ready.id}/download"' in page.text and "Waiting to start" in page.text


# --- a class's PDFs -------------------------------------------------------------------------------------

def test_a_teacher_exports_pdfs_of_their_class(client, session):
    school_class, teacher, *_rest = people(session)
    login(client, teacher)
    page = client.get(f"/classes/{school_class.id}/export")
    assert page.status_code == 200 and "PDFs for conference night" in page.text
    assert f'action="/classes/{school_class.id}/export"' in page.text

    response = client.post(f"/classes/{school_class.id}/export", data={})
    assert response.status_code == 422 and "Choose at least one part to include." in response.text
    assert all_jobs(session) == []

    job = job_from(client.post(f"/classes/{school_class.id}/export", data={"sections": ["competencies", "goals"]}),
                   session)
    assert job.kind == "class_pdfs" and job.owner_id == teacher.id
    assert job.params == {"class_id": school_class.id, "sections": ["goals", "competencies"]}
    assert f'href="/jobs/{job.id}"' in client.get(f"/classes/{school_class.id}/export").text


def test_another_teacher_cannot_export_the_class(client, session):
    school_class, _teacher, other_teacher, student, _other = people(session)
    login(client, other_teacher)
    assert client.get(f"/classes/{school_class.id}/export").status_code == 404
    assert client.post(f"/classes/{school_class.id}/export", data={"sections": SECTIONS}).status_code == 404
    assert client.get("/classes/99999999999/export").status_code == 404
    client.cookies.clear()
    login(client, student)
    assert client.post(f"/classes/{school_class.id}/export", data={"sections": SECTIONS}).status_code == 403
    assert all_jobs(session) == []


# --- the job page ---------------------------------------------------------------------------------------

def test_the_job_page_shows_progress_and_polls_while_running(client, session, new_client):
    *_rest, student, other_student = people(session)
    job = Job(kind="portfolio_pdf", owner_id=student.id, status=JobStatus.running, progress=3, total=12,
              stage="Adding your reflections", claimed_by="w", started_at=utcnow(), heartbeat_at=utcnow())
    session.add(job)
    session.commit()
    login(client, student)

    page = client.get(f"/jobs/{job.id}")
    assert page.status_code == 200 and "<h1>Portfolio PDF</h1>" in page.text
    assert '<progress class="job-progress__bar" id="job-progress-bar" max="12" value="3"' in page.text
    assert "3 of 12" in page.text and "Adding your reflections" in page.text
    assert f'hx-get="/jobs/{job.id}" hx-trigger="every 1s"' in page.text
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page.text
    assert 'aria-live="polite"' in page.text
    assert page.headers["cache-control"] == "no-store"

    fragment = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="job-progress"')
    assert "<h1>" not in fragment.text and "<html" not in fragment.text and "3 of 12" in fragment.text

    other = new_client()
    login(other, other_student)
    assert other.get(f"/jobs/{job.id}").status_code == 404
    assert other.get(f"/jobs/{job.id}", headers={"HX-Request": "true"}).status_code == 404
    assert other.get("/jobs/99999999999").status_code == 404


@pytest.mark.storage
def test_a_finished_job_stops_polling_and_offers_its_download(app, client, session, settings):
    *_rest, student, _other = people(session)
    job = jobs.enqueue(session=session, owner=student, kind="test_export_echo", params={})
    login(client, student)
    assert "Waiting to start" in client.get(f"/jobs/{job.id}").text

    job_runs.run_pending(engine=app.state.engine, settings=settings)

    fragment = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"}).text
    assert "hx-trigger" not in fragment and "http-equiv" not in fragment
    assert f'href="/jobs/{job.id}/download"' in fragment and "Available until" in fragment
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200 and download.content == b"%PDF-1.7 test"
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == "attachment; filename*=utf-8''Maya%20Chen%20-%20portfolio.pdf"
    assert download.headers["cache-control"] == "private, no-store"


def test_a_job_that_is_not_done_has_nothing_to_download(client, session):
    *_rest, student, _other = people(session)
    job = jobs.enqueue(session=session, owner=student, kind="portfolio_pdf", params={"sections": ["goals"]})
    login(client, student)
    assert client.get(f"/jobs/{job.id}/download").status_code == 404


def test_every_export_page_needs_sign_in(client):
    for method, path in (("GET", "/exports"), ("POST", "/exports/pdf"), ("POST", "/exports/archive"),
                         ("POST", "/exports/showcases/1"), ("GET", "/classes/1/export"), ("POST", "/classes/1/export"),
                         ("GET", "/jobs/1"), ("POST", "/jobs/1/retry"), ("GET", "/jobs/1/download")):
        response = client.request(method, path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), (method, path)

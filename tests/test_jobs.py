"""Background jobs: queueing, exclusive claiming, progress in the owner's language, results, failures, expiry,
abandoned jobs, the in-process runner and `folio worker`."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import cli
from app.i18n import _, translations_for
from app.main import create_app
from app.models import Job, JobStatus, Role, User
from app.models.base import utcnow
from app.services.jobs import job_pages
from app.services.jobs import job_progress
from app.services.jobs import job_housekeeping, job_runs, jobs
from tests.conftest import make_settings
from tests.factories import login, make_school, make_user

# --- throwaway handlers ------------------------------------------------------------------------------------

SEEN: dict[int, dict] = {}  # what each test handler saw while it ran, by job id


@jobs.handler("test_echo")
def run_echo(*, session, settings, job, progress):
    """Writes the job's params["text"] to a file, reporting progress; records what the page could see meanwhile."""
    steps = int(job.params.get("steps", 3))
    for step in range(1, steps + 1):
        progress(step - 1, steps, _("Evidence"))
    # Progress goes through its own transaction: another session sees it while this job is still running.
    with Session(session.get_bind()) as other:
        row = other.get(Job, job.id)
        SEEN[job.id] = {"status": row.status, "progress": row.progress, "total": row.total, "stage": row.stage}
    progress(steps, steps, _("Evidence"))
    path = jobs.result_path(settings, job, ".txt")
    path.write_text(job.params.get("text", "hello"))
    return jobs.JobResult(path=path, download_name="Echo – résumé.txt", content_type="text/plain")


@jobs.handler("test_fail")
def run_fail(*, session, settings, job, progress):
    """Leaves a half-written file, then fails with a message for the user."""
    jobs.result_path(settings, job, ".pdf").write_bytes(b"%PDF-1.7 half")
    raise jobs.JobFailed(_("Evidence"))


@jobs.handler("test_crash")
def run_crash(*, session, settings, job, progress):
    """Changes a row, leaves scratch files, then crashes: nothing it did may remain."""
    owner = session.get(User, job.owner_id)
    owner.display_name = "Changed by a crashing job"
    session.add(owner)
    session.flush()
    (jobs.scratch_dir(settings, job) / "part.txt").write_text("partial")
    jobs.result_path(settings, job, ".zip").write_bytes(b"PK partial")
    raise RuntimeError("boom")


@jobs.handler("test_writer")
def run_writer(*, session, settings, job, progress):
    """Writes to the database in its own (uncommitted) transaction while reporting progress."""
    owner = session.get(User, job.owner_id)
    owner.display_name = "Written by a job"
    session.add(owner)
    session.flush()  # on SQLite this holds the database's write lock until the job ends
    for step in range(3):
        progress(step, 3, "writing")
    path = jobs.result_path(settings, job, ".txt")
    path.write_text("written")
    return jobs.JobResult(path=path, download_name="written.txt", content_type="text/plain")


@jobs.handler("test_interrupted")
def run_interrupted(*, session, settings, job, progress):
    """As if someone pressed Ctrl-C on `folio worker` in the middle of the job."""
    jobs.result_path(settings, job, ".zip").write_bytes(b"PK partial")
    raise KeyboardInterrupt


COUNTS: dict[int, int] = {}


@jobs.handler("test_count")
def run_count(*, session, settings, job, progress):
    """Counts how many times it ran, slowly enough for a second runner to try the same job."""
    COUNTS[job.id] = COUNTS.get(job.id, 0) + 1
    time.sleep(0.3)
    path = jobs.result_path(settings, job, ".txt")
    path.write_text("counted")
    return jobs.JobResult(path=path, download_name="count.txt", content_type="text/plain")


# --- fixtures and helpers ----------------------------------------------------------------------------------

@pytest.fixture
def app(settings):
    """The app, with the exports router even before it is listed in app.routes.ROUTERS."""
    from app.routes import ROUTERS, exports

    application = create_app(settings)
    if exports.router not in ROUTERS:
        application.include_router(exports.router)
    yield application
    application.state.engine.dispose()


def student_of(session, locale: str | None = None, **overrides) -> User:
    student = make_user(session, make_school(session), Role.student, **overrides)
    if locale:
        student.locale = locale
        session.add(student)
        session.commit()
    return student


def queue(session, owner, kind="test_echo", **params) -> Job:
    return jobs.enqueue(session=session, owner=owner, kind=kind, params=params)


def reload(session, job: Job) -> Job:
    session.expire_all()
    return session.get(Job, job.id)


def job_files(settings, job_id: int) -> list:
    return sorted(settings.jobs_dir.glob(f"job-{job_id}-*")) if settings.jobs_dir.exists() else []


# --- running jobs ------------------------------------------------------------------------------------------

def test_a_job_runs_and_its_owner_downloads_the_result(app, client, session, settings, new_client):
    student = student_of(session)
    job = queue(session, student, text="my portfolio", steps=4)
    assert job.status is JobStatus.queued

    assert job_runs.run_pending(engine=app.state.engine, settings=settings) == 1

    job = reload(session, job)
    assert job.status is JobStatus.done and job.attempts == 1 and job.claimed_by == "test"
    assert (job.progress, job.total) == (4, 4)
    assert job.result_size == len("my portfolio") and job.download_name == "Echo – résumé.txt"
    assert job.expires_at - job.finished_at == timedelta(hours=settings.export_keep_hours)
    assert SEEN[job.id] == {"status": JobStatus.running, "progress": 0, "total": 4, "stage": "Evidence"}
    assert job_runs.run_pending(engine=app.state.engine, settings=settings) == 0  # nothing left

    login(client, student)
    page = client.get(f"/jobs/{job.id}")
    assert page.status_code == 200 and f'href="/jobs/{job.id}/download"' in page.text
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200 and download.content == b"my portfolio"
    assert download.headers["content-type"].startswith("text/plain")
    assert download.headers["cache-control"] == "private, no-store"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "filename*=utf-8''Echo%20%E2%80%93%20r%C3%A9sum%C3%A9.txt" in download.headers["content-disposition"]

    other = new_client()
    login(other, student_of(session))
    assert other.get(f"/jobs/{job.id}").status_code == 404
    assert other.get(f"/jobs/{job.id}/download").status_code == 404
    assert other.post(f"/jobs/{job.id}/retry").status_code == 404


def test_the_handler_runs_in_the_owners_language(app, session, settings):
    student = student_of(session, locale="fr")
    french = translations_for("fr").ugettext("Evidence")
    assert french != "Evidence"  # the test means something only if the catalogue translates it
    done = queue(session, student)
    failed = queue(session, student, kind="test_fail")

    job_runs.run_pending(engine=app.state.engine, settings=settings)

    assert SEEN[done.id]["stage"] == french
    assert reload(session, failed).error == french
    assert _("Evidence") == "Evidence"  # the caller's language is left alone


def test_progress_writes_are_throttled_but_the_last_one_is_kept(app, session):
    student = student_of(session)
    job = queue(session, student)
    from sqlalchemy import update

    with Session(app.state.engine) as other:
        other.execute(update(Job).where(Job.id == job.id).values(status=JobStatus.running, claimed_by="w"))
        other.commit()
    reporter = job_progress.ProgressReporter(engine=app.state.engine, job_id=job.id, worker_id="w", interval=60)
    reporter(1, 10, "one")
    reporter(2, 10, "two")  # within the interval: not written yet
    assert (reload(session, job).progress, reload(session, job).stage) == (1, "one")
    reporter(10, 10, "last")  # done reaches total: written at once
    assert (reload(session, job).progress, reload(session, job).stage) == (10, "last")
    reporter(3, 0, "no total yet")
    reporter.flush()
    assert reload(session, job).stage == "no total yet"


def test_a_handler_that_writes_is_not_held_up_by_progress_and_its_work_is_kept(app, session, settings):
    student = student_of(session, display_name="Maya")
    job = queue(session, student, kind="test_writer")
    started = time.monotonic()
    job_runs.run_pending(engine=app.state.engine, settings=settings)
    assert time.monotonic() - started < 5  # a progress write that can't get the lock is skipped, not waited for
    assert reload(session, job).status is JobStatus.done
    assert session.get(User, student.id).display_name == "Written by a job"  # committed with the outcome


# --- failures ------------------------------------------------------------------------------------------------

def test_a_failed_job_keeps_its_message_and_leaves_no_file(app, client, session, settings):
    student = student_of(session)
    job = queue(session, student, kind="test_fail")
    job_runs.run_pending(engine=app.state.engine, settings=settings)

    job = reload(session, job)
    assert job.status is JobStatus.failed and job.error == "Evidence" and job.result_name is None
    assert job_files(settings, job.id) == []

    login(client, student)
    page = client.get(f"/jobs/{job.id}")
    assert "Evidence" in page.text and f'action="/jobs/{job.id}/retry"' in page.text
    assert client.get(f"/jobs/{job.id}/download").status_code == 404

    again = client.post(f"/jobs/{job.id}/retry")
    assert again.status_code == 303
    new_id = int(again.headers["location"].rsplit("/", 1)[1])
    retried = session.get(Job, new_id)
    assert new_id != job.id and retried.kind == "test_fail" and retried.status is JobStatus.queued


def test_a_crashing_job_fails_with_a_generic_message_and_undoes_its_work(app, session, settings, caplog):
    student = student_of(session, display_name="Maya")
    job = queue(session, student, kind="test_crash")
    job_runs.run_pending(engine=app.state.engine, settings=settings)

    job = reload(session, job)
    assert job.status is JobStatus.failed and "Something went wrong" in job.error and "boom" not in job.error
    assert job_files(settings, job.id) == []
    assert session.get(User, student.id).display_name == "Maya"
    assert "boom" in caplog.text  # the traceback is logged for the administrator


def test_an_interrupted_job_goes_back_in_the_queue_uncounted(app, session, settings):
    job = queue(session, student_of(session), kind="test_interrupted")
    with pytest.raises(KeyboardInterrupt):
        job_runs.run_pending(engine=app.state.engine, settings=settings)
    job = reload(session, job)
    assert job.status is JobStatus.queued and job.attempts == 0 and job.claimed_by is None
    assert job_files(settings, job.id) == []


def test_retry_of_a_job_that_is_not_failed_changes_nothing(app, client, session):
    student = student_of(session)
    job = queue(session, student)
    login(client, student)
    response = client.post(f"/jobs/{job.id}/retry")
    assert response.status_code == 303 and response.headers["location"] == f"/jobs/{job.id}"
    assert len(session.exec(select(Job)).all()) == 1


# --- claiming ------------------------------------------------------------------------------------------------

def test_two_runners_racing_run_a_job_once(app, session, settings):
    student = student_of(session)
    job = queue(session, student, kind="test_count")
    COUNTS.clear()
    barrier = threading.Barrier(2)
    ran: list[int] = []

    def runner(name: str) -> None:
        barrier.wait()
        ran.append(job_runs.run_pending(engine=app.state.engine, settings=settings, worker_id=name))

    threads = [threading.Thread(target=runner, args=(f"worker-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert COUNTS[job.id] == 1 and sorted(ran) == [0, 1]
    assert reload(session, job).status is JobStatus.done


def test_claiming_is_exclusive_even_when_everyone_asks_at_once(app, session):
    job = queue(session, student_of(session))
    barrier = threading.Barrier(6)
    won: list[str] = []

    def worker(name: str) -> None:
        barrier.wait()
        if job_runs.claim(engine=app.state.engine, job_id=job.id, worker_id=name):
            won.append(name)

    threads = [threading.Thread(target=worker, args=(f"worker-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(won) == 1
    job = reload(session, job)
    assert job.status is JobStatus.running and job.claimed_by == won[0] and job.attempts == 1
    assert not job_runs.claim(engine=app.state.engine, job_id=job.id, worker_id="late")


def test_jobs_run_oldest_first_and_limit_is_respected(app, session, settings):
    student = student_of(session)
    first, second = queue(session, student), queue(session, student)
    assert job_runs.run_pending(engine=app.state.engine, settings=settings, limit=1) == 1
    assert reload(session, first).status is JobStatus.done
    assert reload(session, second).status is JobStatus.queued


def test_kinds_without_a_handler_are_left_for_another_worker(app, session, settings):
    job = queue(session, student_of(session), kind="no_such_kind")
    assert job_runs.run_pending(engine=app.state.engine, settings=settings) == 0
    assert reload(session, job).status is JobStatus.queued


def test_an_abandoned_running_job_is_requeued_then_given_up(app, session, settings):
    student = student_of(session, locale="fr")
    long_ago = utcnow() - timedelta(hours=1)
    dead = Job(kind="test_echo", owner_id=student.id, status=JobStatus.running, attempts=1, claimed_by="gone",
               heartbeat_at=long_ago, started_at=long_ago)
    hopeless = Job(kind="test_echo", owner_id=student.id, status=JobStatus.running, attempts=3, claimed_by="gone",
                   heartbeat_at=long_ago, started_at=long_ago)
    alive = Job(kind="test_echo", owner_id=student.id, status=JobStatus.running, attempts=1, claimed_by="busy",
                heartbeat_at=utcnow(), started_at=utcnow())
    session.add_all([dead, hopeless, alive])
    session.commit()
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    leftover = settings.jobs_dir / f"job-{dead.id}-1-result.pdf"
    leftover.write_bytes(b"half")

    assert job_housekeeping.requeue_abandoned(engine=app.state.engine, settings=settings) == 2

    dead, hopeless, alive = reload(session, dead), reload(session, hopeless), reload(session, alive)
    assert dead.status is JobStatus.queued and dead.claimed_by is None and not leftover.exists()
    assert hopeless.status is JobStatus.failed and hopeless.error
    assert hopeless.error == translations_for("fr").ugettext(
        "This stopped unexpectedly several times, so Folio gave up. Please try again later.")
    assert alive.status is JobStatus.running

    job_runs.run_pending(engine=app.state.engine, settings=settings)
    dead = reload(session, dead)
    assert dead.status is JobStatus.done and dead.attempts == 2


def test_a_worker_that_lost_its_job_does_not_overwrite_the_new_run(app, session, settings):
    """If a job was requeued and taken by another worker, the first worker's late result is discarded."""
    student = student_of(session)
    job = queue(session, student)

    @jobs.handler("test_echo_taken")
    def run_taken(*, session, settings, job, progress):
        from sqlalchemy import update

        with Session(session.get_bind()) as other:  # another worker took it over meanwhile
            other.execute(update(Job).where(Job.id == job.id).values(claimed_by="someone-else"))
            other.commit()
        path = jobs.result_path(settings, job, ".txt")
        path.write_text("late")
        return jobs.JobResult(path=path, download_name="late.txt", content_type="text/plain")

    job.kind = "test_echo_taken"
    session.add(job)
    session.commit()
    try:
        job_runs.run_pending(engine=app.state.engine, settings=settings)
    finally:
        jobs.HANDLERS.pop("test_echo_taken")
    job = reload(session, job)
    assert job.status is JobStatus.running and job.claimed_by == "someone-else" and job.result_name is None


# --- expiry --------------------------------------------------------------------------------------------------

def test_expired_results_are_deleted_and_no_longer_downloadable(app, client, session, settings):
    student = student_of(session)
    job = queue(session, student)
    job_runs.run_pending(engine=app.state.engine, settings=settings)
    job = reload(session, job)
    path = settings.jobs_dir / job.result_name
    assert path.is_file()

    assert job_housekeeping.cleanup_expired(engine=app.state.engine, settings=settings) == 0  # not expired yet
    assert path.is_file()

    later = utcnow() + timedelta(hours=settings.export_keep_hours, minutes=1)
    assert job_housekeeping.cleanup_expired(engine=app.state.engine, settings=settings, now=later) == 1
    assert not path.exists() and reload(session, job).result_name is None

    login(client, student)
    assert client.get(f"/jobs/{job.id}/download").status_code == 404
    assert "no longer kept" in client.get(f"/jobs/{job.id}").text

    much_later = utcnow() + timedelta(days=8)
    job_housekeeping.cleanup_expired(engine=app.state.engine, settings=settings, now=much_later)
    assert session.exec(select(Job)).all() == []


def test_a_result_past_its_expiry_is_refused_even_before_cleanup(app, client, session, settings):
    student = student_of(session)
    job = queue(session, student)
    job_runs.run_pending(engine=app.state.engine, settings=settings)
    job = reload(session, job)
    job.expires_at = utcnow() - timedelta(minutes=1)
    session.add(job)
    session.commit()
    login(client, student)
    assert client.get(f"/jobs/{job.id}/download").status_code == 404


# --- runners ---------------------------------------------------------------------------------------------------

def test_the_in_process_runner_runs_a_queued_job_by_itself(tmp_path, database_url):
    settings = make_settings(tmp_path, database_url, job_runner="in-process")
    application = create_app(settings)
    try:
        with TestClient(application, base_url="http://testserver"):
            assert application.state.job_runner is not None
            with Session(application.state.engine, expire_on_commit=False) as session:
                job = queue(session, student_of(session))
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    session.expire_all()
                    if session.get(Job, job.id).status is JobStatus.done:
                        break
                    time.sleep(0.05)
                assert session.get(Job, job.id).status is JobStatus.done
        assert application.state.job_runner._thread is None  # stopped with the app
    finally:
        application.state.engine.dispose()


def test_the_external_setting_starts_no_runner(app, client):
    assert app.state.job_runner is None


def test_folio_worker_once_runs_the_queued_jobs(app, session, settings, monkeypatch, capsys):
    student = student_of(session)
    first, second = queue(session, student), queue(session, student, kind="test_fail")
    monkeypatch.setattr(cli, "get_settings", lambda: settings)

    assert cli.main(["worker", "--once"]) == 0

    assert "Ran 2 jobs." in capsys.readouterr().out
    assert reload(session, first).status is JobStatus.done
    assert reload(session, second).status is JobStatus.failed
    assert reload(session, first).claimed_by.count(":") == 2  # host:pid:random


def test_job_for_owner_refuses_others_and_impossible_ids(app, session):
    student, other = student_of(session), student_of(session)
    job = queue(session, student)
    assert job_pages.job_for_owner(session=session, user=student, job_id=job.id).id == job.id
    from app.access import NotFound

    for user, job_id in ((other, job.id), (student, job.id + 1000), (student, 2**40)):
        with pytest.raises(NotFound):
            job_pages.job_for_owner(session=session, user=user, job_id=job_id)


def test_download_names_are_made_safe():
    assert jobs.safe_download_name("../../etc/passwd") == "etc passwd"
    assert jobs.safe_download_name('a"b\r\nc.pdf') == "a b c.pdf"
    assert jobs.safe_download_name("Maya Chen - portfolio.pdf") == "Maya Chen - portfolio.pdf"
    assert jobs.safe_download_name(" . ", ".zip") == "folio.zip"

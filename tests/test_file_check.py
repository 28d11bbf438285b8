"""No orphans, ever, and a way to check: the trash and its grace period, the sweeps, and `folio check [--repair]`,
on both databases and both file stores."""

from __future__ import annotations

import argparse
import os
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app import storage
from app.cli import cmd_check
from app.job_runner import JobRunner
from app.main import create_app
from app.models import Artefact, User
from app.services.operations.file_check import check_files
from app.services.operations.housekeeping import sweep
from tests.conftest import make_settings
from tests.factories import login, make_school, make_user
from tests.media import jpeg_with_gps
from tests.stored import stored_keys

pytestmark = pytest.mark.storage  # on the upload folder and on an S3 server

GRACE = timedelta(minutes=5)


@pytest.fixture
def student(session):
    return make_user(session, make_school(session))


def upload_photo(client, title: str) -> int:
    response = client.post("/artefacts/upload", files=[("files", (f"{title}.jpg", jpeg_with_gps(), "image/jpeg")),
                                                        ("title", (None, title))],
                           headers={"Accept": "application/json"})
    assert response.status_code == 201, response.text
    return response.json()["created"][0]["id"]


def put_without_row(settings, tmp_path, key: str, data: bytes) -> None:
    """What a process killed between keeping a file and committing its row leaves behind."""
    source = tmp_path / f"{uuid.uuid4().hex}.part"
    source.write_bytes(data)
    storage.uploads(settings).put_file(key, source)


def in_trash(settings, key: str) -> bytes | None:
    try:
        with storage.uploads(settings).open_trashed(key) as reader:
            return reader.read()
    except FileNotFoundError:
        return None


def later(hours: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(hours=hours)


def test_files_left_by_a_killed_upload_are_found_and_trashed_after_the_grace_period(
        app, client, session, settings, student, tmp_path):
    login(client, student)
    upload_photo(client, "Kept photo")
    kept = stored_keys(settings, f"u{student.id}/")
    orphans = [f"u{student.id}/{'a' * 32}.jpg", f"u{student.id}/{'a' * 32}_small.webp"]
    for key in orphans:
        put_without_row(settings, tmp_path, key, b"half a photo " + key.encode())

    young = check_files(settings=settings, engine=app.state.engine, repair=True, grace=GRACE)
    assert young.orphans == []  # its row may be about to be committed: never touched inside the grace period
    assert set(stored_keys(settings, f"u{student.id}/")) == set(kept) | set(orphans)

    found = check_files(settings=settings, engine=app.state.engine, grace=GRACE, now=later(1))
    assert [orphan.key for orphan in found.orphans] == sorted(orphans)
    assert found.problems_left == 2 and set(stored_keys(settings)) == set(kept) | set(orphans)  # reported only

    repaired = check_files(settings=settings, engine=app.state.engine, repair=True, grace=GRACE, now=later(1))
    assert len(repaired.orphans) == 2 and repaired.problems_left == 0
    assert stored_keys(settings) == sorted(kept)  # the photo with a row and its thumbnails are untouched
    assert in_trash(settings, orphans[0]) == b"half a photo " + orphans[0].encode()
    assert check_files(settings=settings, engine=app.state.engine, grace=GRACE, now=later(1)).problems == 0


def test_the_command_reports_a_missing_file_by_item_and_exits_1_even_after_repair(
        client, session, settings, student, capsys):
    login(client, student)
    photo_id = upload_photo(client, "Bridge model")
    assert cmd_check(settings, argparse.Namespace(repair=False)) == 0
    assert "Everything matches." in capsys.readouterr().out

    photo = session.get(Artefact, photo_id)
    storage.uploads(settings).delete([photo.stored_name])
    assert cmd_check(settings, argparse.Namespace(repair=True)) == 1
    out = capsys.readouterr().out
    assert f"{photo.stored_name}  item {photo_id} “Bridge model” of {student.username}" in out
    assert "Problems left: 1." in out


def test_repair_sets_the_storage_count_to_what_is_stored_counting_thumbnails(
        app, client, session, settings, student, capsys):
    login(client, student)
    photo_id = upload_photo(client, "Leaf rubbing")
    store = storage.uploads(settings)
    on_disk = sum(store.info(key).size for key in stored_keys(settings, f"u{student.id}/"))
    photo = session.get(Artefact, photo_id)
    # As a photo uploaded before thumbnails counted: no derivative bytes recorded, only the original counted.
    photo.derived_bytes = 0
    session.get(User, student.id).storage_used_bytes = photo.size_bytes
    session.commit()

    assert cmd_check(settings, argparse.Namespace(repair=False)) == 1
    out = capsys.readouterr().out
    assert f"{student.username} (user {student.id}): counted {photo.size_bytes:,} bytes, stored {on_disk:,}" in out
    assert "Photos whose thumbnail sizes were not recorded: 1 (--repair records them)" in out

    assert cmd_check(settings, argparse.Namespace(repair=True)) == 0
    session.expire_all()
    assert session.get(User, student.id).storage_used_bytes == on_disk
    assert session.get(Artefact, photo_id).derived_bytes == on_disk - photo.size_bytes > 0
    assert client.post(f"/artefacts/{photo_id}/delete").status_code == 303
    session.expire_all()
    assert session.get(User, student.id).storage_used_bytes == 0
    assert cmd_check(settings, argparse.Namespace(repair=False)) == 0


def test_deleted_files_wait_in_the_trash_until_the_grace_period_ends(client, session, settings, student):
    login(client, student)
    photo_id = upload_photo(client, "Volcano")
    keys = stored_keys(settings, f"u{student.id}/")
    name = session.get(Artefact, photo_id).stored_name
    original = storage.uploads(settings).read_bytes(name)
    assert client.post(f"/artefacts/{photo_id}/delete").status_code == 303
    assert stored_keys(settings) == []
    assert in_trash(settings, name) == original

    assert sweep(settings=settings).trash_purged == 0
    assert sweep(settings=settings, now=later(settings.trash_hours - 1)).trash_purged == 0
    assert all(in_trash(settings, key) is not None for key in keys)
    assert sweep(settings=settings, now=later(settings.trash_hours + 1)).trash_purged == len(keys) == 4
    assert all(in_trash(settings, key) is None for key in keys)
    assert stored_keys(settings) == []


def test_a_refused_upload_is_deleted_at_once_not_trashed(client, session, settings, student):
    login(client, student)
    response = client.post("/artefacts/upload", files=[("files", ("a.jpg", jpeg_with_gps(), "image/jpeg")),
                                                       ("other", ("b.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert response.status_code == 422
    assert stored_keys(settings) == []
    assert sweep(settings=settings, now=later(settings.trash_hours + 1)).trash_purged == 0


def test_sweeps_remove_stale_scratch_files_only_and_two_at_once_do_not_fail(client, session, settings, student):
    login(client, student)
    for title in ("One", "Two", "Three"):
        assert client.post(f"/artefacts/{upload_photo(client, title)}/delete").status_code == 303
    store = storage.uploads(settings)
    stale, fresh = store.new_scratch_path(), store.new_scratch_path()
    stale.write_bytes(b"killed mid-upload")
    fresh.write_bytes(b"still arriving")
    at = later(settings.trash_hours + 1)  # when the sweeps run
    old, recent = at.timestamp() - settings.upload_time_limit_seconds - 60, at.timestamp() - 60
    os.utime(stale, (old, old))
    os.utime(fresh, (recent, recent))

    reports, errors = [], []

    def run() -> None:
        try:
            reports.append(sweep(settings=settings, now=at))
        except Exception as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert not stale.exists() and fresh.read_bytes() == b"still arriving"
    assert sum(report.scratch_removed for report in reports) >= 1
    assert sum(report.trash_purged for report in reports) >= 12  # a file deleted twice is no error
    assert store.purge_trash(deleted_before=later(1000)) == 0  # nothing was left behind
    assert check_files(settings=settings, engine=client.app.state.engine, grace=GRACE, now=later(1)).problems == 0


def test_the_job_runner_and_the_app_start_sweep_the_stores(
        client, session, settings, student, tmp_path, database_url, storage_url):
    login(client, student)
    photo_id = upload_photo(client, "Swept")
    name = session.get(Artefact, photo_id).stored_name
    assert client.post(f"/artefacts/{photo_id}/delete").status_code == 303
    assert in_trash(settings, name) is not None
    time.sleep(1.1)  # S3 times have whole seconds
    no_grace = make_settings(tmp_path, database_url, storage_url=storage_url, trash_hours=0)
    JobRunner(engine=client.app.state.engine, settings=no_grace, cleanup_seconds=0).run_once()
    assert in_trash(settings, name) is None

    stale = storage.uploads(settings).new_scratch_path()
    stale.write_bytes(b"killed mid-upload")
    old = time.time() - settings.upload_time_limit_seconds - 60
    os.utime(stale, (old, old))
    restarted = create_app(settings)
    try:
        with TestClient(restarted):
            assert not stale.exists()
    finally:
        restarted.state.engine.dispose()


def test_an_upload_finishing_while_the_store_is_listed_is_no_problem(
        app, client, session, settings, student, monkeypatch):
    login(client, student)
    upload_photo(client, "Before")
    store = storage.uploads(settings)
    listing = store.scan

    def scan_then_upload(prefix: str = ""):
        found = listing(prefix)
        upload_photo(client, "During the check")  # its files came after the listing, its row before the reading
        return found

    monkeypatch.setattr(store, "scan", scan_then_upload)
    report = check_files(settings=settings, engine=app.state.engine, repair=True, grace=timedelta(0))
    assert (report.orphans, report.missing, report.counts) == ([], [], [])
    monkeypatch.undo()
    session.expire_all()
    on_store = sum(info.size for info in store.scan(f"u{student.id}/").values())
    assert session.get(User, student.id).storage_used_bytes == on_store

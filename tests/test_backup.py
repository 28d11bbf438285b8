"""`folio backup` and `folio restore`: consistent while Folio runs, verified by checksums, never over a live school."""

from __future__ import annotations

import argparse
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from app.cli import cmd_backup
from app.main import create_app
from app.models import Artefact
from app.services.operations.backup import BackupError, backup
from app.services.operations.file_references import referenced_names
from app.services.operations.restore import restore
from tests.conftest import make_settings
from tests.factories import login, make_note, make_school, make_user
from tests.media import jpeg_with_gps


def upload_photo(client, title: str, width: int = 320) -> None:
    response = client.post("/artefacts/upload", files=[("files", (f"{title}.jpg", jpeg_with_gps(width), "image/jpeg")),
                                                        ("title", (None, title)), ("audience", (None, "private"))])
    assert response.status_code == 303, response.text


@pytest.fixture
def student(session):
    return make_user(session, make_school(session))


@pytest.fixture
def empty_target(request, tmp_path, database_url):
    """Settings for a second, empty Folio on the same kind of database: where a backup is restored."""
    folder = tmp_path / "restored"
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{folder / 'data' / 'folio.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(f"r_{uuid.uuid4().hex[:12]}")
    return make_settings(folder, url)


def database_is_empty(settings) -> bool:
    url = sa.engine.make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        return not Path(url.database).exists()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return sa.inspect(connection).get_table_names() == []
    finally:
        engine.dispose()


def rows_without_files(settings) -> list[str]:
    engine = sa.create_engine(settings.effective_database_url)
    try:
        with engine.connect() as connection:
            names = referenced_names(connection)
    finally:
        engine.dispose()
    return sorted(name for name in names if not (settings.upload_dir / name).is_file())


def test_a_backup_restores_into_an_empty_folio_with_its_items_and_files(client, session, student, settings,
                                                                         empty_target, tmp_path):
    login(client, student)
    for title in ("Bridge model", "Leaf rubbing"):
        upload_photo(client, title)
    make_note(session, student, title="What I learned about arches")
    photo = session.exec(select(Artefact).where(Artefact.title == "Bridge model")).one()
    original = (settings.upload_dir / photo.stored_name).read_bytes()

    report = backup(settings=settings, dest=tmp_path / "backup")
    assert report.files == 8 and not report.missing  # two photos, each with three derivatives
    restore(settings=empty_target, source=tmp_path / "backup")

    restored = create_app(empty_target)
    try:
        with TestClient(restored, base_url="http://testserver", follow_redirects=False) as browser:
            login(browser, student.username)
            timeline = browser.get("/artefacts")
            assert timeline.status_code == 200
            for title in ("Bridge model", "Leaf rubbing", "What I learned about arches"):
                assert title in timeline.text
            assert browser.get(f"/files/{photo.id}/original").content == original
    finally:
        restored.state.engine.dispose()
    assert rows_without_files(empty_target) == []


def test_restore_refuses_a_backup_that_no_longer_matches_its_manifest_and_changes_nothing(
        client, session, student, settings, empty_target, tmp_path):
    login(client, student)
    upload_photo(client, "Volcano")
    backup(settings=settings, dest=tmp_path / "backup")
    damaged = next((tmp_path / "backup" / "uploads").rglob("*.jpg"))
    damaged.write_bytes(damaged.read_bytes()[:-10])

    with pytest.raises(BackupError, match="changed since the backup"):
        restore(settings=empty_target, source=tmp_path / "backup")
    assert database_is_empty(empty_target)
    assert not empty_target.upload_dir.exists() or not any(empty_target.upload_dir.rglob("*.*"))


def test_restore_refuses_to_overwrite_a_school_that_has_data(client, student, settings, tmp_path):
    login(client, student)
    upload_photo(client, "Volcano")
    backup(settings=settings, dest=tmp_path / "backup")
    with pytest.raises(BackupError, match="empty"):
        restore(settings=settings, source=tmp_path / "backup")


def test_backup_refuses_a_folder_that_holds_something_else(settings, tmp_path, capsys):
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "holiday.jpg").write_bytes(b"not ours")
    assert cmd_backup(settings, argparse.Namespace(dest=dest)) == 2
    assert "not empty" in capsys.readouterr().err
    assert (dest / "holiday.jpg").read_bytes() == b"not ours"


def test_the_command_reports_what_it_backed_up(client, student, settings, tmp_path, capsys):
    login(client, student)
    upload_photo(client, "Volcano")
    assert cmd_backup(settings, argparse.Namespace(dest=tmp_path / "nightly")) == 0
    assert "the database and 4 files" in capsys.readouterr().out
    assert (tmp_path / "nightly" / "manifest.json").is_file()
    assert not (tmp_path / "nightly.partial").exists()


def test_a_backup_taken_while_students_upload_restores_with_every_rows_file_present(
        app, client, student, settings, empty_target, tmp_path):
    login(client, student)
    upload_photo(client, "Before the backup")
    stop = threading.Event()
    uploaded: list[int] = []

    def keep_uploading() -> None:
        with TestClient(app, base_url="http://testserver", follow_redirects=False) as writer:
            login(writer, student.username)
            while not stop.is_set():
                upload_photo(writer, f"During {len(uploaded)}", width=480)
                uploaded.append(1)

    worker = threading.Thread(target=keep_uploading)
    worker.start()
    try:
        while not uploaded:
            stop.wait(0.01)
        report = backup(settings=settings, dest=tmp_path / "backup")
    finally:
        stop.set()
        worker.join()
    assert not report.missing
    restore(settings=empty_target, source=tmp_path / "backup")
    assert rows_without_files(empty_target) == []


@pytest.mark.storage
def test_an_item_deleted_right_after_the_snapshot_is_still_backed_up_from_the_trash(
        client, session, student, settings, empty_target, tmp_path, monkeypatch):
    from app.services.operations import backup as backup_module

    login(client, student)
    upload_photo(client, "Kept")
    upload_photo(client, "Deleted during the backup")
    doomed_id = session.exec(select(Artefact.id).where(Artefact.title == "Deleted during the backup")).one()
    copy = backup_module._copy_kept_or_trashed
    deleted = []

    def delete_then_copy(store, key, target):
        if not deleted:  # the database copy is taken; the student deletes the item before any file is copied
            assert client.post(f"/artefacts/{doomed_id}/delete").status_code == 303
            deleted.append(doomed_id)
        return copy(store, key, target)

    monkeypatch.setattr(backup_module, "_copy_kept_or_trashed", delete_then_copy)
    report = backup(settings=settings, dest=tmp_path / "backup")
    assert deleted and not report.missing and report.files == 8
    session.expire_all()
    assert session.get(Artefact, doomed_id) is None  # gone from the live school...

    restore(settings=empty_target, source=tmp_path / "backup")
    assert rows_without_files(empty_target) == []  # ...but the backup has its row and every file of it
    restored = create_app(empty_target)
    try:
        with TestClient(restored, base_url="http://testserver", follow_redirects=False) as browser:
            login(browser, student.username)
            assert browser.get(f"/files/{doomed_id}/original").status_code == 200
    finally:
        restored.state.engine.dispose()

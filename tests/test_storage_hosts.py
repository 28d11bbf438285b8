"""Two hosts sharing PostgreSQL (or one SQLite file, here) and one S3 bucket: what one app process keeps, another
serves, and a `folio worker` on a third host exports and imports it. Nothing depends on a host's own disk."""

from __future__ import annotations

import io
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import storage
from app.db import make_engine
from app.main import create_app
from app.models import Artefact, Job, JobStatus
from app.services.jobs import job_runs, jobs
from app.services.portfolio import images
from app.services.portfolio import stored_files
from tests.conftest import make_settings
from tests.factories import login, make_school, make_user
from tests.media import jpeg_with_gps, mp4

pytestmark = pytest.mark.s3


@pytest.fixture
def hosts(tmp_path, database_url, s3_server):
    """Settings for host A and host B (own upload and data folders) and a worker host C, one bucket."""
    bucket = f"folio-hosts-{tmp_path.name[-8:].lower().replace('_', '-')}"
    s3_server.create_bucket(bucket)
    url = f"s3://{bucket}/district"
    return [make_settings(tmp_path / name, database_url, storage_url=url) for name in ("a", "b", "c")]


def local_files(settings) -> list[str]:
    return [str(p) for root in (settings.upload_dir, settings.jobs_dir) if root.exists()
            for p in root.rglob("*") if p.is_file()]


def test_an_upload_on_one_host_is_served_by_another_and_exported_and_imported_by_a_worker(hosts, tmp_path):
    a, b, c = hosts
    app_a, app_b = create_app(a), create_app(b)
    worker_engine = make_engine(c)
    try:
        with Session(app_a.state.engine, expire_on_commit=False) as session, \
                TestClient(app_a, base_url="http://testserver", follow_redirects=False) as on_a, \
                TestClient(app_b, base_url="http://testserver", follow_redirects=False) as on_b:
            student = make_user(session, make_school(session))
            login(on_a, student)
            video = mp4()
            response = on_a.post("/artefacts/upload", files=[
                ("files", ("bridge.jpg", jpeg_with_gps(), "image/jpeg")), ("files", ("clip.mp4", video, "video/mp4")),
                ("title", (None, "Bridge test"))])
            assert response.status_code == 303
            photo, clip = sorted(session.exec(select(Artefact)).all(), key=lambda x: x.media_kind.value)
            assert local_files(a) == [], "host A keeps nothing once the files are in the bucket"

            on_b.cookies.update(on_a.cookies)
            assert on_b.get(f"/files/{photo.id}/small").headers["content-type"] == "image/webp"
            served = on_b.get(f"/files/{clip.id}/original")
            assert served.status_code == 200 and served.content == video
            seek = on_b.get(f"/files/{clip.id}/original", headers={"Range": "bytes=100-199"})
            assert seek.status_code == 206 and seek.content == video[100:200]

            export = jobs.enqueue(session=session, owner=student, kind="archive", params={"student_id": student.id})
            assert job_runs.run_pending(engine=worker_engine, settings=c, worker_id="host-c") == 1
            session.expire_all()
            export = session.get(Job, export.id)
            assert export.status is JobStatus.done, export.error
            download = on_b.get(f"/jobs/{export.id}/download")  # made on host C, served by host B
            assert download.status_code == 200
            with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
                names = archive.namelist()
                kept_clip = next(n for n in names if n.startswith("files/") and n.endswith(".mp4"))
                assert archive.read(kept_clip) == video

            other = make_user(session, make_school(session, "Hillside"))
            on_a.cookies.clear()
            login(on_a, other)
            response = on_a.post("/import", files={"archive": ("archive.zip", download.content, "application/zip")})
            assert response.status_code == 303
            assert local_files(a) == [], "the archive waits in the bucket, not on host A"
            assert job_runs.run_pending(engine=worker_engine, settings=c, worker_id="host-c") == 1
            session.expire_all()
            imported = session.exec(select(Artefact).where(Artefact.owner_id == other.id,
                                                           Artefact.stored_name.is_not(None))).all()
            assert len(imported) == 2
            kept = storage.uploads(b)
            assert all(kept.exists(x.stored_name) for x in imported)
            assert storage.job_files(c).list("incoming/") == [], "the imported archive is removed"
            assert local_files(c) == [], "the worker's scratch space is cleaned"
    finally:
        worker_engine.dispose()
        app_a.state.engine.dispose()
        app_b.state.engine.dispose()


def test_nothing_reaches_the_bucket_until_the_upload_is_checked_and_a_refused_one_leaves_no_object(
        hosts, monkeypatch):
    a = hosts[0]
    store = storage.uploads(a)
    seen_while_checking = []
    real_process = images.process_image

    def watching(**kwargs):
        seen_while_checking.append(store.list())
        return real_process(**kwargs)

    monkeypatch.setattr(images, "process_image", watching)
    path = a.upload_dir.parent / "photo.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpeg_with_gps())
    stored = stored_files.store_path(path=path, store=store, owner_id=7, original_name="photo.jpg")
    assert seen_while_checking == [[]], "the bucket was empty while the photo was being checked"
    assert sorted(store.list()) == sorted([stored.stored_name, stored.thumb_small, stored.thumb_large,
                                           stored.thumb_print])

    program = a.upload_dir.parent / "tool.jpg"
    program.write_bytes(b"MZ" + bytes(5000))
    with pytest.raises(stored_files.FileRefused):
        stored_files.store_path(path=program, store=store, owner_id=7, original_name="tool.jpg")
    assert len(store.list()) == 4
    assert not any((a.upload_dir / ".incoming").iterdir())

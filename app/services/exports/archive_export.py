"""“Download everything”: one ZIP with the offline website, the original files, portfolio.json and leap2a.xml.

Written to disk as it goes (originals are streamed from the file store, never held in memory whole).
Layout:
    index.html            opens site/index.html (works straight from the file system)
    README.txt            what is in the archive
    portfolio.json        everything, in Folio's documented format (docs/portfolio-json.md)
    leap2a.xml            the same portfolio as a Leap2A feed, for Mahara and other e-portfolios
    files/<ref>-<name>    the original files
    files/badges/<name>   a picture that came in as an Open Badge, with it baked in again (what leap2a.xml points at)
    credentials/*.json    each Open Badges credential's signed JSON, byte for byte as issued (it still verifies)
    site/...              the offline website
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from sqlmodel import Session

from app import storage as file_storage
from app.config import Settings
from app.i18n import _
from app.models import Job, MediaKind, Role, User
from app.services.jobs import jobs
from app.services.exports import portfolio_json
from app.services.exports import portfolio_json_document
from app.services.jobs.jobs import JobFailed, JobResult, Progress

# Already compressed: stored as they are, which is much faster and no bigger.
_STORED_KINDS = {MediaKind.image, MediaKind.audio, MediaKind.video}


def _index_html(title: str, link_text: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{_escape(title)}</title>\n"
        "<meta http-equiv=\"refresh\" content=\"0; url=site/index.html\">\n"
        "</head>\n<body>\n"
        f"<p><a href=\"site/index.html\">{_escape(link_text)}</a></p>\n"
        "</body>\n</html>\n"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def readme_text(*, student: User) -> str:
    """README.txt: what each part of the archive is, in the student's language."""
    lines = [
        _("Folio archive of %(name)s", name=student.display_name),
        "",
        _("index.html — open this file in a web browser to read your portfolio offline: every page, picture and "
          "feedback thread, without an internet connection."),
        _("files/ — your original files, as you uploaded them (photos without their hidden location data)."),
        _("portfolio.json — everything in your portfolio in a documented format (Folio portfolio format, version 1). "
          "Another Folio can import this archive: Export in the menu, then “Bring in a portfolio from another Folio or from Mahara”."),
        _("leap2a.xml — your portfolio as a Leap2A feed, which Mahara and other e-portfolio systems can import."),
        _("files/badges/ — the badges you brought in as evidence, each with its Open Badge baked into the picture "
          "again, for leap2a.xml: Mahara keeps it, and any badge backpack can read it."),
        _("credentials/ — your Open Badges credentials, each exactly as your school signed it: give one to anyone and "
          "they can verify it."),
        _("site/ — the pages of the offline website."),
        "",
    ]
    return "\n".join(lines)


def build_archive(*, session: Session, settings: Settings, student: User, out_path: Path,
                  progress: Progress | None = None) -> None:
    """Write `student`'s archive to `out_path` (via a temporary file beside it, renamed when complete)."""
    from app.services.exports.leap2a import export_feed
    from app.services.exports.leap2a_badges import baked_copies
    from app.services.exports.offline_assets import write_stored_file
    from app.services.exports.offline_site import write_site

    report = progress or (lambda done, total, stage: None)
    report(0, 4, _("Collecting your portfolio"))
    store = file_storage.uploads(settings)
    serialized = portfolio_json_document.collect(session=session, settings=settings, student=student, store=store)
    file_paths = serialized.file_paths
    media = _media_kinds(session, file_paths)
    partial = out_path.with_name(out_path.name + ".part")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            archive.writestr("index.html", _index_html(_("Portfolio of %(name)s", name=student.display_name),
                                                       _("Open the portfolio")))
            archive.writestr("README.txt", readme_text(student=student))
            archive.writestr("portfolio.json", portfolio_json.dumps(serialized.document))
            for credential in serialized.credentials:
                archive.writestr(credential.archive_path, credential.content)
            total = len(serialized.files)
            for number, exported in enumerate(serialized.files, start=1):
                kind = media.get(exported.artefact_id)
                write_stored_file(archive, store=store, key=exported.key, name=exported.archive_path, size=exported.size,
                                  compress_type=zipfile.ZIP_STORED if kind in _STORED_KINDS else zipfile.ZIP_DEFLATED)
                if number % 10 == 0 or number == total:
                    report(number, total, _("Copying your files"))
            report(2, 4, _("Writing the Leap2A feed"))
            feed_paths = dict(file_paths)
            for copy in baked_copies(session=session, store=store, file_paths=file_paths):
                archive.writestr(copy.archive_path, copy.content, compress_type=zipfile.ZIP_STORED)
                feed_paths[copy.artefact_id] = copy.archive_path
            archive.writestr("leap2a.xml", export_feed(session=session, settings=settings, student=student,
                                                       file_paths=feed_paths))
            report(3, 4, _("Writing the offline website"))
            write_site(session=session, settings=settings, student=student, archive=archive, prefix="site/",
                       file_paths=file_paths, credentials_written=True, progress=progress)
        partial.replace(out_path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    report(4, 4, _("Finishing"))


def _media_kinds(session: Session, file_paths: dict[int, str]) -> dict[int, MediaKind | None]:
    from sqlmodel import select

    from app.models import Artefact

    if not file_paths:
        return {}
    rows = session.exec(select(Artefact.id, Artefact.media_kind).where(Artefact.id.in_(list(file_paths)))).all()
    return dict(rows)


def archive_download_name(student: User) -> str:
    """“Maya Chen – Folio archive.zip”."""
    name = "".join(ch for ch in student.display_name if ch.isprintable() and ch not in '/\\:*?"<>|').strip() or "Folio"
    return _("%(name)s – Folio archive.zip", name=name)


@jobs.handler("archive")
def run_archive(*, session: Session, settings: Settings, job: Job, progress: Progress) -> JobResult:
    """The "archive" job: the owner's own portable archive."""
    params = job.params or {}
    student = session.get(User, job.owner_id)
    if student is None or student.role is not Role.student or params.get("student_id") != student.id:
        raise JobFailed(_("Only a student can download their own portfolio archive."))
    out_path = jobs.result_path(settings, job, ".zip")
    build_archive(session=session, settings=settings, student=student, out_path=out_path, progress=progress)
    return JobResult(path=out_path, download_name=archive_download_name(student), content_type="application/zip")

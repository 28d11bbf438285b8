"""Importing a Folio archive, a Mahara export ZIP or a bare Leap2A .xml file into a student's portfolio.

Archives are untrusted: they are opened with app.services.exports.safe_zip, portfolio.json is validated against its
schema (and its refs and files checked) before anything is written. An import commits in short batches (see
app.services.exports.import_keys: each created item is recorded under the import's scope, so an import run again
after a crash carries on instead of duplicating); on any problem what it committed is deleted again, the files it
stored are removed, and ImportRefused says why. What a Folio archive's sections become is
app.services.exports.import_folio's job; a Leap2A feed's, app.services.exports.leap2a_import's.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

from app.config import Settings
from app.i18n import _
from app.models import User
from app.services.exports.archive_checks import ImportRefused, check_files, load_document, read_limited
from app.services.exports.import_folio import create_everything
from app.services.exports.import_folio_evidence import artefact_key
from app.services.exports.import_summary import ImportSummary
from app.services.exports.import_keys import Ledger, fingerprint, undo
from app.services.exports.safe_zip import ArchiveRefused, is_zip, open_untrusted_zip

MAX_XML_BYTES = 64 * 1024 * 1024


Progress = Callable[[int, int, str], None]


def _noop(_done: int, _total: int, _stage: str) -> None:
    pass


def import_archive(*, session: Session, settings: Settings, student: User, archive_path: Path,
                   progress: Progress | None = None, work_dir: Path | None = None,
                   ledger: Ledger | None = None) -> ImportSummary:
    """Import a Folio archive, a Mahara export ZIP or a Leap2A .xml file into `student`'s portfolio;
    ImportRefused (with nothing changed and nothing left on disk) when it can't be imported.

    Without a `ledger` this is one import of its own, committed in batches and at the end. With one (a job's),
    what that ledger's scope already created is skipped, and the last batch is left for the caller to commit."""
    standalone = ledger is None
    if ledger is None:
        ledger = Ledger(session=session, settings=settings, student=student, commit=session.commit,
                        scope=f"{fingerprint(archive_path)}:{secrets.token_hex(8)}")
    report = progress or _noop
    report(0, 4, _("Checking the archive"))
    scratch = work_dir or settings.jobs_dir / f"import-{secrets.token_hex(8)}"
    try:
        summary = _import_any(session, settings, student, archive_path, report, ledger, scratch / "extracted")
        ledger.finish()
        if standalone:
            session.commit()
        report(4, 4, _("Done"))
        return summary
    except Exception:
        session.rollback()
        ledger.discard_uncommitted_files()
        undo(session=session, settings=settings, student=student, scope=ledger.scope)
        raise
    except BaseException:  # the runner is stopping: what was committed stays, for the next run to carry on from
        session.rollback()
        ledger.discard_uncommitted_files()
        raise
    finally:
        shutil.rmtree(scratch / "extracted", ignore_errors=True)
        if work_dir is None:
            shutil.rmtree(scratch, ignore_errors=True)


def _import_any(session: Session, settings: Settings, student: User, archive_path: Path, report: Progress,
                ledger: Ledger, extract_to: Path) -> ImportSummary:
    if is_zip(archive_path):
        try:
            extracted = open_untrusted_zip(archive_path, settings=settings, dest=extract_to)
        except ArchiveRefused as refused:
            raise ImportRefused(refused.message) from None
        base, kind = _find_payload(extracted.files)
        files = {name[len(base):]: path for name, path in extracted.files.items() if name.startswith(base)}
        if kind == "folio":
            return _import_folio(session, settings, student, files, report, ledger)
        xml_bytes = read_limited(files["leap2a.xml"], MAX_XML_BYTES)
        return _import_leap(session, settings, student, xml_bytes, files, report, ledger)
    if _looks_like_xml(archive_path):
        if archive_path.stat().st_size > MAX_XML_BYTES:
            raise ImportRefused(_("This Leap2A file is too large to import."))
        return _import_leap(session, settings, student, archive_path.read_bytes(), {}, report, ledger)
    raise ImportRefused(_("This file isn't a Folio archive or a Mahara export. Choose the .zip file Folio or "
                          "Mahara made, or a Leap2A .xml file."))


def _looks_like_xml(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(1024)
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<")


def _find_payload(files: dict[str, Path]) -> tuple[str, str]:
    """Where portfolio.json (a Folio archive) or leap2a.xml (Mahara) sits: at the root, or in one top folder."""
    for base in _bases(files):
        if base + "portfolio.json" in files:
            return base, "folio"
        if base + "leap2a.xml" in files:
            return base, "leap2a"
    raise ImportRefused(_("This archive has neither a portfolio.json (a Folio archive) nor a leap2a.xml (a Mahara "
                          "export), so Folio can't tell what to import."))


def _bases(files: dict[str, Path]) -> list[str]:
    bases = [""]
    tops = {name.split("/", 1)[0] for name in files if "/" in name}
    if len(tops) == 1 and all("/" in name for name in files):
        bases.append(tops.pop() + "/")
    return bases


# --- Leap2A (Mahara) ---------------------------------------------------------------------------------------


def _import_leap(session: Session, settings: Settings, student: User, xml_bytes: bytes, files: dict[str, Path],
                 report: Progress, ledger: Ledger) -> ImportSummary:
    from app.services.exports.leap2a_import import Leap2AError, import_leap2a

    report(1, 4, _("Importing from Leap2A"))
    try:
        result = import_leap2a(session=session, settings=settings, student=student, xml_bytes=xml_bytes, files=files,
                               ledger=ledger)
    except Leap2AError as error:
        raise ImportRefused(error.message) from None
    return ImportSummary(kind="leap2a", artefacts=result.artefacts, reflections=result.reflections, goals=result.goals,
                         showcases=result.showcases, about=result.about, skipped=result.skipped,
                         already_here=[entry.line() for entry in result.already_here],
                         not_imported=[entry.line() for entry in result.not_imported], messages=list(result.messages))


# --- Folio archives: importing -----------------------------------------------------------------------------


def _import_folio(session: Session, settings: Settings, student: User, files: dict[str, Path],
                  report: Progress, ledger: Ledger) -> ImportSummary:
    document = load_document(files["portfolio.json"])
    # Files a previous run of this import already stored are counted in the student's storage already.
    done = {doc["ref"] for doc in document["artefacts"] if ledger.existing(artefact_key(doc)) is not None}
    sources = check_files(document, files, settings, student, already_imported=done)
    summary = ImportSummary(kind="folio")
    create_everything(session=session, settings=settings, student=student, document=document, sources=sources,
                      summary=summary, report=report, ledger=ledger)
    return summary

"""PDF exports: a student's portfolio (chosen sections) or one showcase as a tagged, archival PDF (PDF/UA-1) made
with WeasyPrint from templates/pdf/portfolio.html and templates/pdf/print.css; and a whole class as a ZIP of one
PDF per student.

Nothing is fetched from the network or from outside the student's own uploads: the URL fetcher only knows
`folio-file:<key>` names for the photos gathered for this document and data: URIs; everything else raises, and
WeasyPrint leaves that resource out. Photos are embedded from their print copy (a JPEG of at most PRINT_PX made at
upload), byte for byte: nothing is decoded or resized while the PDF is made. A photo uploaded before print copies
existed gets one the first time it is exported, kept beside its thumbnails (and recorded on the artefact).

Layout is most of the time an export takes, and WeasyPrint's layout time grows with the number of boxes, not with
the stylesheet's rules (bench/RESULTS.md): the templates keep one element per thing a reader sees.
"""

from __future__ import annotations

import base64
import io
import logging
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import unquote_to_bytes

from sqlmodel import Session, select

from app import storage as file_storage
from app.config import Settings
from app import i18n
from app.i18n import _
from app.access.relationships import students_in_class, teaches_class
from app.models import Artefact, SchoolClass, Showcase, User
from app.services.exports.pdf_content import gather_portfolio
from app.services.exports.pdf_entries import PortfolioContent, image_key
from app.services.exports.pdf_cover import choose_cover
from app.services.exports.pdf_render import FILE_SCHEME, css_page_content, css_string, render_html  # noqa: F401 (tests use them here)
from app.services.portfolio import storage
from app.services.portfolio.images import PRINT_PX, PRINT_SUFFIX
from app.storage import Storage, check_key

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]
LARGE_SUFFIX, SMALL_SUFFIX = "-l.webp", "-s.webp"  # the thumbnails' names (app/services/portfolio/images.py)
PDF_VARIANT = "pdf/ua-1"
PRINT_CSS = "pdf/print.css"  # under templates/
# WeasyPrint embeds a JPEG as it is (a WebP would be re-encoded as a huge PNG): a photo across the page prints at
# about 175 dpi, and a 100-photo portfolio stays a small PDF, quick to write in bounded memory.
EMBED_MAX_PX = PRINT_PX
JPEG_QUALITY = 85  # as images.PRINT_QUALITY: a print copy made late looks like one made at upload


def _no_progress(_done: int, _total: int, _stage: str) -> None:
    return None


# --- fetching images -----------------------------------------------------------------------------


def _url_fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StudentFilesFetcher(URLFetcher):
        """Serves `folio-file:<key>` from the student's own folder in the file store, and data: URIs; refuses all else."""

        def __init__(self, *, store: Storage, owner_id: int, files: dict[str, str]):
            # fetch() below is overridden whole and never reaches urllib (so never the network or file: URLs);
            # allowed_protocols is a second lock should WeasyPrint ever call the base class.
            super().__init__(allowed_protocols=("folio-file", "data"), fail_on_errors=False)
            self.store = store
            self.owner_id = owner_id
            self.files = dict(files)

        def fetch(self, url: str, headers=None):
            if url.startswith("data:"):
                content_type, body = _decode_data_uri(url)
                return URLFetcherResponse(url, body, {"Content-Type": content_type})
            if not url.startswith(FILE_SCHEME):
                raise ValueError(f"Refused: only the student's own files are embedded ({url[:60]!r})")
            stored_name = self.path_for(url)
            # The print copy is already a JPEG of at most EMBED_MAX_PX: no decoding or resizing during the export.
            # (Anything else is a thumbnail whose print copy couldn't be kept: converted, this once.)
            if stored_name.endswith(PRINT_SUFFIX):
                body = self.store.read_bytes(stored_name)
            else:
                with self.store.local_copy(stored_name) as path:
                    body = embeddable_jpeg(path)
            return URLFetcherResponse(url, body, {"Content-Type": "image/jpeg"})

        def path_for(self, url: str) -> str:
            """The stored name a folio-file: URL names; ValueError unless it is one of this document's files, in the
            student's own folder."""
            key = url[len(FILE_SCHEME):]
            stored_name = self.files.get(key)
            if stored_name is None:
                raise ValueError(f"Refused: {url[:60]!r} is not a file of this document")
            if check_key(stored_name).split("/")[0] != f"u{self.owner_id}" or not self.store.exists(stored_name):
                raise ValueError(f"Refused: {url[:60]!r} is not the student's file")
            return stored_name

    return StudentFilesFetcher


# --- the files an export reads and keeps (the one place that touches upload storage) ------------------------


def keep_upload(*, store: Storage, stored_name: str, data: bytes) -> None:
    """Store `data` under `stored_name`, whole or not at all (written to scratch, then put in the store)."""
    scratch = store.new_scratch_path(".print")  # a fresh name: two exports at once never share one
    try:
        scratch.write_bytes(data)
        store.put_file(stored_name, scratch, content_type="image/jpeg")
    finally:
        scratch.unlink(missing_ok=True)


def print_copy_name(artefact: Artefact) -> str:
    """Where a photo's print copy goes: beside its thumbnails, named like the ones made at upload."""
    thumb = PurePosixPath(artefact.thumb_large or artefact.thumb_small)
    stem = thumb.name.rsplit("-", 1)[0] if thumb.name.endswith((LARGE_SUFFIX, SMALL_SUFFIX)) else thumb.stem
    return str(thumb.with_name(f"{stem}{PRINT_SUFFIX}"))


def add_missing_print_copies(*, session: Session, settings: Settings, content: PortfolioContent) -> int:
    """Give each photo of the document uploaded before print copies existed its print copy, made from its large
    thumbnail and kept (file and artefact.thumb_print, committed with the caller's transaction), so later exports
    embed it as it is; returns how many were made. A copy that can't be made or kept is logged and skipped: the
    fetcher converts that one thumbnail for this export instead."""
    made = 0
    store = file_storage.uploads(settings)
    for artefact in content.images:
        if artefact.thumb_print:
            continue
        name = print_copy_name(artefact)
        try:
            # Made by an export whose transaction was rolled back: the file is whole (put in one go), reuse it.
            if not store.exists(name):
                with store.local_copy(artefact.thumb_large or artefact.thumb_small) as source:
                    data = embeddable_jpeg(source)
                keep_upload(store=store, stored_name=name, data=data)
            info = store.info(name)
        except (OSError, ValueError) as error:
            log.warning("No print copy for artefact %s: %s", artefact.id, error)
            continue
        artefact.thumb_print = name
        # Counted like the copies made at upload (never refused: the student didn't ask for it).
        size = info.size if info else 0
        artefact.derived_bytes = (artefact.derived_bytes or 0) + size
        storage.reserve(session=session, user_id=artefact.owner_id, size_bytes=size, quota_bytes=None)
        session.add(artefact)
        content.files[image_key(artefact)] = name
        made += 1
    if made:
        session.flush()
    return made


def embeddable_jpeg(path: Path) -> bytes:
    """An image file as JPEG bytes of at most EMBED_MAX_PX a side (transparency flattened onto white)."""
    from PIL import Image

    with Image.open(path) as image:
        image.draft("RGB", (EMBED_MAX_PX, EMBED_MAX_PX))
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
        elif image.mode != "RGB":
            image = image.convert("RGB")
        image.thumbnail((EMBED_MAX_PX, EMBED_MAX_PX), Image.Resampling.BICUBIC)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def make_url_fetcher(*, settings: Settings, student: User, files: dict[str, str]):
    """A WeasyPrint URL fetcher limited to `files` (key → stored name) of `student`, plus data: URIs."""
    return _url_fetcher_class()(store=file_storage.uploads(settings), owner_id=student.id, files=files)


def _decode_data_uri(url: str) -> tuple[str, bytes]:
    header, _sep, payload = url[5:].partition(",")
    parts = header.split(";")
    content_type = parts[0] or "text/plain"
    if "base64" in parts[1:]:
        return content_type, base64.b64decode(payload)
    return content_type, unquote_to_bytes(payload)


# --- rendering -----------------------------------------------------------------------------------


def build_portfolio_pdf(
    *, session: Session, settings: Settings, student: User, sections: list[str], out_path: Path,
    showcase: Showcase | None = None, progress: Progress | None = None, cover_id: int | None = None,
) -> int:
    """Write the student's portfolio (the chosen sections), or one of their showcases, to `out_path` as a tagged
    PDF/UA-1 document, its cover showing the photo `cover_id` (one of theirs) or one chosen for them; returns its
    number of pages."""
    import weasyprint

    report = progress or _no_progress
    total = 4
    report(0, total, _("Gathering the portfolio"))
    if showcase is not None and showcase.owner_id != student.id:
        raise ValueError("The showcase belongs to someone else")
    content = gather_portfolio(session=session, settings=settings, student=student, sections=sections,
                               showcase=showcase)
    choose_cover(session=session, content=content, chosen_id=cover_id)
    add_missing_print_copies(session=session, settings=settings, content=content)
    report(1, total, _("Preparing the pages"))
    html = render_html(content=content, settings=settings)
    fetcher = make_url_fetcher(settings=settings, student=student, files=content.files)
    from app.templating import TEMPLATES_DIR

    stylesheet = weasyprint.CSS(filename=str(TEMPLATES_DIR / PRINT_CSS), url_fetcher=fetcher)
    document_source = weasyprint.HTML(string=html, url_fetcher=fetcher)
    del html
    report(2, total, _("Laying out the pages"))
    document = document_source.render(stylesheets=[stylesheet], pdf_variant=PDF_VARIANT)
    pages = len(document.pages)
    report(3, total, _("Writing the PDF"))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    document.write_pdf(out_path, pdf_variant=PDF_VARIANT)
    report(total, total, _("Done"))
    return pages


# --- a whole class -------------------------------------------------------------------------------

_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_file_stem(name: str, fallback: str = "student") -> str:
    """A name that is safe as a file name on every system (no separators, control or reserved characters)."""
    stem = _UNSAFE.sub(" ", name)
    stem = " ".join(stem.split()).strip(" .")[:100]
    return stem or fallback


def unique_name(stem: str, taken: set[str], suffix: str) -> str:
    """`stem + suffix`, numbered " (2)", " (3)"… when already taken (case-insensitively); records it as taken."""
    candidate, number = f"{stem}{suffix}", 2
    while candidate.lower() in taken:
        candidate, number = f"{stem} ({number}){suffix}", number + 1
    taken.add(candidate.lower())
    return candidate


def class_students(*, session: Session, school_class: SchoolClass) -> list[User]:
    """The class's students, by name (one query)."""
    return list(session.exec(
        select(User).where(User.id.in_(students_in_class(school_class.id))).order_by(User.display_name, User.id)
    ).all())


def build_class_pdfs(
    *, session: Session, settings: Settings, school_class: SchoolClass, sections: list[str], out_zip: Path,
    progress: Progress | None = None,
) -> int:
    """Write a ZIP holding one portfolio PDF per student of the class ("Name.pdf"); returns how many students.
    Each PDF is made in a temporary file, added to the ZIP and deleted, so only one is on disk at a time."""
    report = progress or _no_progress
    students = class_students(session=session, school_class=school_class)
    total = len(students)
    taken: set[str] = set()
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_zip, "w", compression=zipfile.ZIP_STORED) as archive, \
            tempfile.TemporaryDirectory(prefix=".pdfs-", dir=out_zip.parent) as scratch:
        for done, student in enumerate(students):
            report(done, total, _("Making the PDF for %(name)s", name=student.display_name))
            name = unique_name(safe_file_stem(student.display_name), taken, ".pdf")
            temp = Path(scratch) / f"{student.id}.pdf"
            build_portfolio_pdf(session=session, settings=settings, student=student, sections=sections, out_path=temp)
            archive.write(temp, arcname=name)
            temp.unlink()
    report(total, total, _("Done"))
    return total


# --- jobs ----------------------------------------------------------------------------------------

from app.services.jobs import jobs  # noqa: E402  (after the builders, which don't need the jobs module)


def _sections_param(raw: object) -> list[str]:
    """The job's chosen sections, checked; JobFailed when none is a known section."""
    from app.services.exports.pdf_sections import SECTION_ORDER

    if raw is None:
        return list(SECTION_ORDER)
    if not isinstance(raw, (list, tuple)) or not all(isinstance(name, str) for name in raw):
        raise jobs.JobFailed(_("Choose at least one part of the portfolio to include."))
    chosen = [name for name in SECTION_ORDER if name in raw]
    if not chosen or len(set(raw)) != len(chosen):
        raise jobs.JobFailed(_("Choose at least one part of the portfolio to include."))
    return chosen


def _read_competencies_in_owners_language(*, session: Session, settings: Settings, owner: User) -> None:
    # The job runs in its owner's language (app.services.jobs); competencies and levels are read in it too, as on
    # the owner's pages. (The archive export doesn't: its data keeps the school's own words.)
    from app.services.competencies.translations import read_content_in

    read_content_in(session=session, user=owner, locale=i18n.get_locale(), original=settings.default_locale)


@jobs.handler("portfolio_pdf")
def run_portfolio_pdf(*, session: Session, settings: Settings, job, progress: Progress) -> jobs.JobResult:
    """The owner's portfolio (params: sections), or one of their own showcases (params: showcase_id), as a PDF."""
    from app.access import valid_id

    student = session.get(User, job.owner_id)
    if student is None:
        raise jobs.JobFailed(_("This account no longer exists."))
    _read_competencies_in_owners_language(session=session, settings=settings, owner=student)
    params = job.params or {}
    showcase_id = params.get("showcase_id")
    showcase = None
    if showcase_id is not None:
        showcase = session.get(Showcase, showcase_id) if valid_id(showcase_id) else None
        if showcase is None or showcase.owner_id != student.id:
            raise jobs.JobFailed(_("That showcase can't be found. It may have been deleted."))
        sections = ["feedback"] if "feedback" in (params.get("sections") or []) else []
    else:
        sections = _sections_param(params.get("sections"))
    out_path = jobs.result_path(settings, job, ".pdf")
    cover_id = params.get("cover_id")
    build_portfolio_pdf(session=session, settings=settings, student=student, sections=sections, out_path=out_path,
                        showcase=showcase, progress=progress, cover_id=cover_id if valid_id(cover_id) else None)
    if showcase is not None:
        name = _("%(name)s – %(title)s", name=student.display_name, title=showcase.title)
    else:
        name = _("%(name)s – portfolio", name=student.display_name)
    return jobs.JobResult(path=out_path, download_name=jobs.safe_download_name(name + ".pdf", ".pdf"),
                          content_type="application/pdf")


@jobs.handler("class_pdfs")
def run_class_pdfs(*, session: Session, settings: Settings, job, progress: Progress) -> jobs.JobResult:
    """A ZIP of one portfolio PDF per student of a class the owner teaches (params: class_id, sections)."""
    from app.models import Role
    from app.access import valid_id

    teacher = session.get(User, job.owner_id)
    params = job.params or {}
    class_id = params.get("class_id")
    school_class = session.get(SchoolClass, class_id) if valid_id(class_id) else None
    teaches = school_class is not None and teacher is not None and teacher.role is Role.teacher and teaches_class(
        session=session, teacher_id=teacher.id, class_id=school_class.id)
    if not teaches:
        raise jobs.JobFailed(_("That class can't be found, or you don't teach it."))
    _read_competencies_in_owners_language(session=session, settings=settings, owner=teacher)
    sections = _sections_param(params.get("sections"))
    out_zip = jobs.result_path(settings, job, ".zip")
    count = build_class_pdfs(session=session, settings=settings, school_class=school_class, sections=sections,
                             out_zip=out_zip, progress=progress)
    if count == 0:
        raise jobs.JobFailed(_("This class has no students yet."))
    name = _("%(class_name)s – portfolios", class_name=school_class.name)
    return jobs.JobResult(path=out_zip, download_name=jobs.safe_download_name(name + ".zip", ".zip"),
                          content_type="application/zip")

"""PDF exports: a portfolio's sections or a showcase as a tagged PDF (PDF/UA-1), a class as a ZIP of PDFs."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import Session

from app import storage
from app.models import (
    ArtefactKind, Audience, CheckIn, Comment, CommentKind, CommentStatus, CompetencyRating, GoalStep, ItemType,
    JobStatus, ProficiencyLevel, RatingSource, Role, Showcase, ShowcaseItem, ShowcaseItemType, User,
)
from app.models.base import utcnow
from app.services.jobs import job_runs, jobs
from app.services.portfolio.artefacts import ArtefactInput, create_file_artefacts, create_text_artefact
from app.services.portfolio.goal_forms import GoalData
from app.services.portfolio.goals import create_goal
from app.services.exports import pdf_export
from app.services.exports.pdf_content import gather_portfolio
from app.services.exports.pdf_entries import image_key
from app.services.exports.pdf_export import (
    build_class_pdfs, build_portfolio_pdf, css_page_content, css_string, make_url_fetcher, safe_file_stem, unique_name,
)
from app.services.portfolio.stored_files import store_path
from tests.factories import make_class, make_framework, make_note, make_reflection, make_school, make_user
from tests.media import png
from tests.stored import job_result, stored_bytes

ALL = ["goals", "reflections", "evidence", "feedback", "competencies"]


# --- helpers -----------------------------------------------------------------------------------


def add_file(session: Session, settings, owner, tmp_path: Path, *, name: str, data: bytes, title: str = ""):
    source = tmp_path / f"src-{name}"
    source.write_bytes(data)
    stored = store_path(path=source, store=storage.uploads(settings), owner_id=owner.id, original_name=name)
    artefact = create_file_artefacts(session=session, owner=owner, files=[stored],
                                     data=ArtefactInput(title=title, occurred_on=date(2026, 10, 1)))[0]
    session.commit()
    return artefact


def add_link(session: Session, owner, *, url: str, title: str = "A useful site"):
    artefact = create_text_artefact(session=session, owner=owner, kind=ArtefactKind.link,
                                    data=ArtefactInput(title=title, url=url, occurred_on=date(2026, 9, 20)))
    session.commit()
    return artefact


def add_comment(session: Session, *, owner, author, item_type: ItemType, item_id: int, body: str,
                kind=CommentKind.teacher, status=CommentStatus.visible, next_step: str = ""):
    comment = Comment(item_type=item_type, item_id=item_id, owner_id=owner.id, author_id=author.id, kind=kind,
                      body=body, status=status, next_step=next_step)
    session.add(comment)
    session.commit()
    return comment


def add_goal(session: Session, owner, *, title: str = "Read more", steps=("Pick a book", "Read a chapter")):
    goal = create_goal(session=session, owner=owner, data=GoalData(
        title=title, why="Because stories matter", success_criteria="Three books by June", target_date=None,
        audience=Audience.private, competency_ids=set(), steps=list(steps)))
    session.flush()
    first = session.exec(GoalStep.__table__.select().where(GoalStep.goal_id == goal.id)).first()
    if first is not None:
        step = session.get(GoalStep, first.id)
        step.done, step.done_at = True, utcnow()
        session.add(step)
    session.add(CheckIn(goal_id=goal.id, occurred_on=date(2026, 10, 5), note="Finished the first chapter"))
    session.commit()
    return goal


def rate(session: Session, *, student, rater, competency, framework, position: int, source: RatingSource, days_ago=0):
    level = next(l for l in session.exec(ProficiencyLevel.__table__.select()
                                         .where(ProficiencyLevel.framework_id == framework.id)).all()
                 if l.position == position)
    session.add(CompetencyRating(student_id=student.id, competency_id=competency.id, level_id=level.id,
                                 rated_by_id=rater.id, source=source, reason=f"{source.value} reason {position}",
                                 created_at=utcnow() - timedelta(days=days_ago)))
    session.commit()


@pytest.fixture
def world(session: Session, settings, tmp_path: Path):
    """Maya (with a teacher, a framework, every kind of item and comments) and Noah, her classmate."""
    school = make_school(session, "Riverside Elementary")
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    maya = make_user(session, school, display_name="Maya Chen")
    noah = make_user(session, school, display_name="Noah Singh")
    school_class = make_class(session, school, teachers=[teacher], students=[maya, noah], name="Grade 5 Maple")
    framework = make_framework(session, school, classes=[school_class])
    competency = framework.competencies[0]
    note = make_note(session, maya, title="Fractions notes", body="Halves and **quarters**")
    reflection = make_reflection(session, maya, title="What I learned about volcanoes",
                                 body="Magma rises because it is *lighter*. See [the museum](https://example.org/volcano).")
    draft = make_reflection(session, maya, title="Unfinished draft thoughts", body="secret draft words", draft=True)
    image = add_file(session, settings, maya, tmp_path, name="volcano.png", data=png(320, 240), title="Volcano model")
    document = add_file(session, settings, maya, tmp_path, name="lab-report.txt", data=b"My lab report\n" * 40,
                        title="Lab report")
    link = add_link(session, maya, url="https://example.org/fractions")
    goal = add_goal(session, maya)
    add_comment(session, owner=maya, author=teacher, item_type=ItemType.reflection, item_id=reflection.id,
                body="Great use of evidence about magma", next_step="Add a labelled diagram")
    add_comment(session, owner=maya, author=noah, item_type=ItemType.artefact, item_id=note.id,
                body="Pending peer words never shown", kind=CommentKind.peer, status=CommentStatus.pending)
    add_comment(session, owner=maya, author=teacher, item_type=ItemType.artefact, item_id=note.id,
                body="Removed teacher words", status=CommentStatus.removed)
    rate(session, student=maya, rater=maya, competency=competency, framework=framework, position=1,
         source=RatingSource.self, days_ago=20)
    rate(session, student=maya, rater=maya, competency=competency, framework=framework, position=2,
         source=RatingSource.self, days_ago=2)
    rate(session, student=maya, rater=teacher, competency=competency, framework=framework, position=3,
         source=RatingSource.teacher, days_ago=1)
    noah_note = make_note(session, noah, title="Noah's secret rocket plans", body="rocket fuel")
    return dict(school=school, teacher=teacher, maya=maya, noah=noah, school_class=school_class, framework=framework,
                competency=competency, note=note, reflection=reflection, draft=draft, image=image, document=document,
                link=link, goal=goal, noah_note=noah_note)


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def images_in(reader: PdfReader) -> int:
    """How many distinct images the pages use (all pages may share one resource dictionary)."""
    found = set()
    for page in reader.pages:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        for ref in (xobjects.get_object().values() if xobjects else []):
            if ref.get_object().get("/Subtype") == "/Image":
                found.add(ref.idnum if hasattr(ref, "idnum") else id(ref))
    return len(found)


def structure_of(node) -> list[tuple[str, str | None]]:
    """(structure type, alternative text) of every element of a tagged PDF's structure tree."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    found: list[tuple[str, str | None]] = []

    def walk(item) -> None:
        if isinstance(item, IndirectObject):
            item = item.get_object()
        if isinstance(item, ArrayObject):
            for child in item:
                walk(child)
        elif isinstance(item, DictionaryObject):
            if "/S" in item:
                found.append((str(item["/S"]), str(item["/Alt"]) if "/Alt" in item else None))
            if "/K" in item:
                walk(item["/K"])

    walk(node)
    return found


def uris_in(reader: PdfReader) -> list[str]:
    uris = []
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            if action is not None and action.get_object().get("/URI"):
                uris.append(str(action.get_object()["/URI"]))
    return uris


# --- the portfolio -----------------------------------------------------------------------------


def test_portfolio_pdf_has_every_section_and_is_a_tagged_pdf(world, session, settings, tmp_path):
    out = tmp_path / "maya.pdf"
    stages = []
    pages = build_portfolio_pdf(session=session, settings=settings, student=world["maya"], sections=ALL, out_path=out,
                                progress=lambda done, total, stage: stages.append((done, total, stage)))
    reader = PdfReader(out)
    assert pages == len(reader.pages) >= 3  # the cover, then the contents and the sections one after another
    assert stages[0][0] == 0 and stages[-1][0] == stages[-1][1] and len(stages) >= 4

    # The table of contents lists each section with its page number.
    contents = reader.pages[1].extract_text()
    assert "Contents" in contents
    for heading in ("Goals", "Reflections", "Evidence", "Feedback", "Competencies"):
        assert heading in contents
    page_of_goals = next(i for i, page in enumerate(reader.pages[1:], start=2) if "Read more" in page.extract_text())
    page_of_feedback = next(i for i, page in enumerate(reader.pages[1:], start=2) if "Great use of" in page.extract_text())
    assert re.search(rf"Goals[ .]*{page_of_goals}\n", contents)
    assert re.search(rf"Feedback[ .]*{page_of_feedback}\n", contents)

    text = text_of(reader)
    assert "Maya Chen" in reader.pages[0].extract_text() and "Riverside Elementary" in reader.pages[0].extract_text()
    assert "Magma rises because it is" in text  # the reflection, Markdown rendered
    assert "https://example.org/volcano" in text  # a link's address printed for paper
    assert "Great use of evidence about magma" in text and "Add a labelled diagram" in text  # teacher comment
    assert "Pending peer words" not in text and "Removed teacher words" not in text
    assert "Unfinished draft thoughts" not in text and "secret draft words" not in text
    assert "Noah's secret rocket plans" not in text  # never another student's items
    assert "Pick a book" in text and "1 of 2 steps done" in text and "Finished the first chapter" in text
    assert "Developing" in text and "Proficient" in text  # latest self and teacher levels
    assert "Proficient descriptor" in text
    # A non-image file: name, type and size.
    assert "lab-report.txt" in text and "Text file" in text and f"{world['document'].size_bytes} bytes" in text
    # Running footer "Page X of Y" (not on the cover).
    assert f"Page 2 of {pages}" in reader.pages[1].extract_text()
    assert "Page 1 of" not in reader.pages[0].extract_text()

    assert images_in(reader) >= 1  # the photo (its thumbnail) is embedded
    assert "https://example.org/fractions" in uris_in(reader)  # the link artefact stays clickable

    # Tagged, accessible, with metadata.
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert bool(root["/MarkInfo"]["/Marked"]) is True
    assert str(root["/Lang"]).startswith("en")
    assert reader.metadata.title == "Portfolio of Maya Chen"
    assert reader.metadata.author == "Maya Chen"
    assert reader.pdf_header.endswith("1.7")
    assert 'pdfuaid:part="1"' in root["/Metadata"].get_object().get_data().decode()  # declares PDF/UA-1
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"]) is True
    structure = structure_of(root["/StructTreeRoot"])
    assert ("/Figure", "Volcano model") in structure  # the photo, with its alternative text
    assert any(kind == "/Figure" and alt and alt.startswith("Ratings in COM") for kind, alt in structure)  # the chart
    assert {"/H1", "/Table", "/TH", "/Link", "/L"} <= {kind for kind, _alt in structure}


def test_showcase_pdf_holds_only_the_showcase_items(world, session, settings, tmp_path):
    maya = world["maya"]
    showcase = Showcase(owner_id=maya.id, title="Science fair", introduction="My **best** science work.")
    session.add(showcase)
    session.flush()
    for position, (kind, item_id) in enumerate([
        (ShowcaseItemType.reflection, world["reflection"].id), (ShowcaseItemType.artefact, world["image"].id),
        (ShowcaseItemType.competency, world["competency"].id), (ShowcaseItemType.reflection, world["draft"].id),
        (ShowcaseItemType.artefact, world["noah_note"].id),  # someone else's: never shown
    ]):
        session.add(ShowcaseItem.to(showcase_id=showcase.id, item_type=kind, target_id=item_id, position=position,
                                    talking_points="Private talking point"))
    session.commit()
    out = tmp_path / "showcase.pdf"
    build_portfolio_pdf(session=session, settings=settings, student=maya, sections=[], out_path=out, showcase=showcase)
    reader = PdfReader(out)
    text = text_of(reader)
    assert reader.metadata.title == "Science fair"
    assert "My best science work." in text
    assert "What I learned about volcanoes" in text and "Volcano model" in text and "Communication" in text
    assert images_in(reader) == 1
    for absent in ("Fractions notes", "Read more", "Lab report", "Unfinished draft", "rocket", "Private talking point",
                   "Great use of evidence"):  # other items, drafts, another student's, talking points, no feedback
        assert absent not in text
    assert "Contents" in reader.pages[1].extract_text() and "Volcano model" in reader.pages[1].extract_text()


def test_the_pdf_is_in_the_current_language(world, session, settings, tmp_path):
    from app import i18n

    out = tmp_path / "es.pdf"
    token = i18n._current_locale.set("es")
    try:
        build_portfolio_pdf(session=session, settings=settings, student=world["maya"], sections=["goals"], out_path=out)
    finally:
        i18n._current_locale.reset(token)
    reader = PdfReader(out)
    assert str(reader.trailer["/Root"]["/Lang"]) == "es"
    sentence = i18n.translations_for("es").ugettext("Page %(page)s of %(pages)s")
    expected = sentence % {"page": 2, "pages": len(reader.pages)}
    assert expected in reader.pages[1].extract_text()


def test_gathering_takes_a_fixed_number_of_queries(session, settings, count_queries, tmp_path):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    student = make_user(session, school)
    framework = make_framework(session, school)

    def add_items(n: int) -> None:
        for i in range(n):
            note = make_note(session, student, title=f"Note {i}")
            reflection = make_reflection(session, student, title=f"Reflection {i}")
            add_goal(session, student, title=f"Goal {i}")
            for item_type, item_id in ((ItemType.artefact, note.id), (ItemType.reflection, reflection.id)):
                add_comment(session, owner=student, author=teacher, item_type=item_type, item_id=item_id, body="Nice")
        for competency in framework.competencies[:n]:
            rate(session, student=student, rater=student, competency=competency, framework=framework, position=1,
                 source=RatingSource.self)

    def queries() -> int:
        session.expire_all()
        with count_queries() as counter:
            content = gather_portfolio(session=session, settings=settings, student=student, sections=ALL)
        assert content.item_count > 0
        return counter.count

    add_items(1)
    few = queries()
    add_items(3)
    assert queries() == few


# --- safety ------------------------------------------------------------------------------------


@pytest.mark.storage
def test_url_fetcher_only_serves_the_students_own_thumbnails(world, session, settings):
    maya, image = world["maya"], world["image"]
    files = {"mine": image.thumb_large, "theirs": "u999/elsewhere.webp", "escape": "../../etc/passwd",
             "original": image.stored_name}
    fetcher = make_url_fetcher(settings=settings, student=maya, files=files)
    response = fetcher("folio-file:mine")
    assert response.read(3) == b"\xff\xd8\xff"  # the WebP thumbnail, handed over as a JPEG
    response.close()
    for url in ("http://example.org/x.png", "https://example.org/x.png", "file:///etc/passwd",
                "ftp://example.org/x", "folio-file:unknown", "folio-file:theirs", "folio-file:escape"):
        with pytest.raises(ValueError):
            fetcher(url)
    # Another student's fetcher can't reach Maya's files, even when named.
    other = make_url_fetcher(settings=settings, student=world["noah"], files={"mine": image.thumb_large})
    with pytest.raises(ValueError):
        other("folio-file:mine")
    assert fetcher("data:text/plain;base64,aGk=").read() == b"hi"


@pytest.mark.storage
def test_photos_are_embedded_from_the_print_copy_made_at_upload_never_resized_during_the_export(
        world, session, settings, monkeypatch):
    maya, image = world["maya"], world["image"]
    assert image.thumb_print and image.thumb_print.endswith("-p.jpg")
    content = gather_portfolio(session=session, settings=settings, student=maya, sections=["evidence"])
    assert content.files[image_key(image)] == image.thumb_print

    def resizing(path):
        raise AssertionError(f"{path.name} was decoded and resized during the export")

    monkeypatch.setattr(pdf_export, "embeddable_jpeg", resizing)
    fetcher = make_url_fetcher(settings=settings, student=maya, files=content.files)
    response = fetcher(f"folio-file:{image_key(image)}")
    assert response.read() == stored_bytes(settings, image.thumb_print)
    response.close()


def embedded_images(reader: PdfReader) -> list[tuple[int, int, str, bytes]]:
    """(width, height, filter, raw stream bytes) of each distinct image the pages draw."""
    found = {}
    for page in reader.pages:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        for ref in (xobjects.get_object().values() if xobjects else []):
            image = ref.get_object()
            if image.get("/Subtype") == "/Image":
                found[ref.idnum] = (int(image["/Width"]), int(image["/Height"]), str(image.get("/Filter")),
                                    image._data)
    return list(found.values())


def test_the_pdf_embeds_the_print_copy_byte_for_byte_at_print_size(session, settings, tmp_path):
    from PIL import Image

    school = make_school(session)
    student = make_user(session, school, display_name="Ana Ruiz")
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1600), (200, 120, 40)).save(buffer, "JPEG", quality=90)
    photo = add_file(session, settings, student, tmp_path, name="wide.jpg", data=buffer.getvalue(), title="Wide")
    out = tmp_path / "ana.pdf"
    build_portfolio_pdf(session=session, settings=settings, student=student, sections=["evidence"], out_path=out)
    [(width, height, filter_, data)] = embedded_images(PdfReader(out))
    assert (width, height, filter_) == (1200, 800, "/DCTDecode")  # the print copy, not the 2400 px original
    assert data == (settings.upload_dir / photo.thumb_print).read_bytes()


def test_a_photo_without_a_print_copy_gets_one_at_its_first_export_and_keeps_it(
        world, session, settings, tmp_path, monkeypatch):
    maya, image = world["maya"], world["image"]
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (2000, 1500), (20, 90, 160)).save(buffer, "PNG")
    old = add_file(session, settings, maya, tmp_path, name="old.png", data=buffer.getvalue(), title="Old photo")
    # As uploaded before print copies existed: WebP thumbnails only.
    (settings.upload_dir / old.thumb_print).unlink()
    old.thumb_print = None
    session.add(old)
    session.commit()
    used, derived = session.get(User, maya.id).storage_used_bytes, old.derived_bytes

    first = tmp_path / "first.pdf"
    build_portfolio_pdf(session=session, settings=settings, student=maya, sections=["evidence"], out_path=first)
    session.commit()
    session.expire_all()
    assert old.thumb_print and old.thumb_print.endswith("-p.jpg") and old.thumb_print.startswith(f"u{maya.id}/")
    kept = (settings.upload_dir / old.thumb_print).read_bytes()
    with Image.open(io.BytesIO(kept)) as copy:
        assert copy.format == "JPEG" and copy.size == (1200, 900)  # from the 1600 px thumbnail, at print size
    # Counted in her storage like a copy made at upload.
    assert session.get(User, maya.id).storage_used_bytes == used + len(kept)
    assert old.derived_bytes == derived + len(kept)
    sizes = sorted((w, h) for w, h, _f, _d in embedded_images(PdfReader(first)))
    assert (1200, 900) in sizes and len(sizes) == 2  # both photos in the PDF
    assert image.thumb_print  # the other photo's upload-time copy is left as it was

    def resizing(path):
        raise AssertionError(f"{path.name} was decoded and resized again")

    monkeypatch.setattr(pdf_export, "embeddable_jpeg", resizing)
    second = tmp_path / "second.pdf"
    build_portfolio_pdf(session=session, settings=settings, student=maya, sections=["evidence"], out_path=second)
    assert kept in [data for _w, _h, _f, data in embedded_images(PdfReader(second))]

    # An export whose transaction was rolled back kept the file but not the record: the next one reuses the file.
    name = old.thumb_print
    old.thumb_print = None
    session.add(old)
    session.commit()
    third = tmp_path / "third.pdf"
    build_portfolio_pdf(session=session, settings=settings, student=maya, sections=["evidence"], out_path=third)
    assert old.thumb_print == name and kept in [data for _w, _h, _f, data in embedded_images(PdfReader(third))]


def images_drawn_on(page) -> int:
    """How many images a page's content stream draws."""
    xobjects = page["/Resources"].get_object().get("/XObject")
    names = [n.decode() for n in re.findall(rb"/([^\s/]+)\s+Do\b", page.get_contents().get_data())]
    return sum(1 for name in names if xobjects and xobjects.get_object()[f"/{name}"].get_object().get("/Subtype") == "/Image")


def test_a_photos_title_is_on_the_page_of_its_photo(session, settings, tmp_path):
    from PIL import Image

    school = make_school(session)
    student = make_user(session, school, display_name="Ana Ruiz")
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1200), (90, 140, 60)).save(buffer, "JPEG")
    for n in range(8):
        # Notes of growing length between the photos, so page ends fall at every height: some titles would end a page.
        make_note(session, student, title=f"Note {n}", body="Words about the work. " * (25 * n + 10))
        add_file(session, settings, student, tmp_path, name=f"p{n}.jpg", data=buffer.getvalue(), title=f"Snapshot {n}")
    out = tmp_path / "ana.pdf"
    build_portfolio_pdf(session=session, settings=settings, student=student, sections=["evidence"], out_path=out)
    pages = PdfReader(out).pages[1:]  # after the cover (its photo is one of them again)
    placed = [(len(re.findall(r"Snapshot \d", page.extract_text())), images_drawn_on(page)) for page in pages]
    assert sum(images for _titles, images in placed) == 8
    assert all(titles == images for titles, images in placed), placed


def test_css_helpers_escape_and_translate():
    assert css_string('a"b</style>\\') == '"a\\22 b\\3C /style\\3E \\5C "'
    assert css_page_content() == '"Page " counter(page) " of " counter(pages)'
    assert safe_file_stem('Ana/../"Bo"') == "Ana .. Bo"
    taken: set[str] = set()
    assert [unique_name("Sam Lee", taken, ".pdf") for _ in range(3)] == ["Sam Lee.pdf", "Sam Lee (2).pdf",
                                                                            "Sam Lee (3).pdf"]


# --- a class, and the jobs -----------------------------------------------------------------------


def test_class_export_zip_has_one_pdf_per_student(world, session, settings, tmp_path):
    school = world["school"]
    twin = make_user(session, school, display_name="Maya Chen")  # same name: a unique file name
    from app.services.classes.classes import enroll
    from app.models import ClassRole, EnrolledVia

    enroll(session=session, school_class=world["school_class"], user=twin, role=ClassRole.student, via=EnrolledVia.admin)
    session.commit()
    out = tmp_path / "class.zip"
    seen = []
    count = build_class_pdfs(session=session, settings=settings, school_class=world["school_class"],
                             sections=["reflections"], out_zip=out, progress=lambda d, t, s: seen.append((d, t)))
    assert count == 3
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["Maya Chen (2).pdf", "Maya Chen.pdf", "Noah Singh.pdf"]
        texts = {name: text_of(PdfReader(io.BytesIO(archive.read(name)))) for name in archive.namelist()}
    assert "What I learned about volcanoes" in texts["Maya Chen.pdf"]
    assert "What I learned about volcanoes" not in texts["Noah Singh.pdf"]
    assert seen[0] == (0, 3) and seen[-1] == (3, 3)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".pdfs-")]  # temporary files are gone


def test_jobs_make_pdfs_for_their_owners_only(world, session, settings, app):
    maya, noah, teacher = world["maya"], world["noah"], world["teacher"]
    engine = app.state.engine
    noah_showcase = Showcase(owner_id=noah.id, title="Noah's showcase")
    session.add(noah_showcase)
    session.commit()
    good = jobs.enqueue(session=session, owner=maya, kind="portfolio_pdf", params={"sections": ["reflections"]})
    stolen = jobs.enqueue(session=session, owner=maya, kind="portfolio_pdf",
                          params={"sections": [], "showcase_id": noah_showcase.id})
    zipped = jobs.enqueue(session=session, owner=teacher, kind="class_pdfs",
                          params={"class_id": world["school_class"].id, "sections": ["goals"]})
    own_showcase = Showcase(owner_id=maya.id, title="Science fair")
    session.add(own_showcase)
    session.commit()
    session.add(ShowcaseItem(showcase_id=own_showcase.id, item_type=ShowcaseItemType.reflection,
                             item_id=world["reflection"].id))
    session.commit()
    showcased = jobs.enqueue(session=session, owner=maya, kind="portfolio_pdf",
                             params={"sections": [], "showcase_id": own_showcase.id})
    nothing = jobs.enqueue(session=session, owner=maya, kind="portfolio_pdf", params={"sections": ["secrets"]})
    outsider = make_user(session, world["school"], Role.teacher)
    refused = jobs.enqueue(session=session, owner=outsider, kind="class_pdfs",
                           params={"class_id": world["school_class"].id, "sections": ["goals"]})
    session.commit()
    job_runs.run_pending(engine=engine, settings=settings)
    session.expire_all()
    done = session.get(type(good), good.id)
    assert done.status is JobStatus.done and done.download_name == "Maya Chen – portfolio.pdf"
    assert done.content_type == "application/pdf"
    assert PdfReader(io.BytesIO(job_result(settings, done))).pages
    assert session.get(type(good), stolen.id).status is JobStatus.failed
    class_job = session.get(type(good), zipped.id)
    assert class_job.status is JobStatus.done and class_job.download_name == "Grade 5 Maple – portfolios.zip"
    with zipfile.ZipFile(io.BytesIO(job_result(settings, class_job))) as archive:
        assert len(archive.namelist()) == 2
    assert session.get(type(good), refused.id).status is JobStatus.failed
    showcase_job = session.get(type(good), showcased.id)
    assert showcase_job.status is JobStatus.done and showcase_job.download_name == "Maya Chen – Science fair.pdf"
    assert "What I learned about volcanoes" in text_of(PdfReader(io.BytesIO(job_result(settings, showcase_job))))
    failed = session.get(type(good), nothing.id)
    assert failed.status is JobStatus.failed and "Choose at least one part" in failed.error


def test_a_pdf_job_names_competencies_and_levels_in_its_owners_language(world, session, settings, app):
    from app.models import CompetencyTranslation, ProficiencyLevelTranslation

    maya, competency = world["maya"], world["competency"]
    level = world["framework"].levels[0]
    session.add(CompetencyTranslation(competency_id=competency.id, locale="es", name="Comunicación oral",
                                      description="Sobre la comunicación"))
    session.add(ProficiencyLevelTranslation(level_id=level.id, locale="es", label="Inicial"))
    maya.locale = "es"
    session.add(maya)
    session.commit()
    job = jobs.enqueue(session=session, owner=maya, kind="portfolio_pdf", params={"sections": ["competencies"]})
    session.commit()
    job_runs.run_pending(engine=app.state.engine, settings=settings)
    session.expire_all()
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(job_result(settings, session.get(type(job), job.id)))).pages)
    assert "Comunicación oral" in text and "Sobre la comunicación" in text and "Inicial" in text
    assert competency.description not in text
    # Read, never written: the school's own words are unchanged.
    assert session.get(type(competency), competency.id).name == competency.name


@pytest.mark.storage
def test_a_spoken_caption_is_not_an_item_of_the_pdf(session, settings, tmp_path):
    from tests.test_archive_roundtrip import captioned_photo

    student = make_user(session, make_school(session))
    photo, caption = captioned_photo(session, settings, tmp_path, student, title="Paper bridge")
    content = gather_portfolio(session=session, settings=settings, student=student, sections=ALL)
    assert [a.id for a in content.artefacts] == [photo.id] and content.captioned == {photo.id}

    showcase = Showcase(owner_id=student.id, title="Bridges")
    session.add(showcase)
    session.flush()
    for position, item_id in enumerate((photo.id, caption.id)):
        session.add(ShowcaseItem.to(showcase_id=showcase.id, item_type=ShowcaseItemType.artefact, target_id=item_id,
                                    position=position))
    session.commit()
    for out, chosen in ((tmp_path / "all.pdf", None), (tmp_path / "showcase.pdf", showcase)):
        build_portfolio_pdf(session=session, settings=settings, student=student, sections=ALL, out_path=out,
                            showcase=chosen)
        text = text_of(PdfReader(out))
        assert "Paper bridge" in text and "Caption:" not in text and "caption.wav" not in text

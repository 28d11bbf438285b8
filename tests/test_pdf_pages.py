"""A PDF export laid out for paper: a designed cover with the student's photo, no page that ends with a heading,
and no page left nearly empty, for a portfolio with many items of every length.

The cover of each run is also written as a PNG under test-results/pdf/ (ignored by git) for a person to look at.
"""

import io
import random
import shutil
import subprocess
from datetime import date
from pathlib import Path

from pypdf import PdfReader

from app.models import ItemType, Role, Showcase, ShowcaseItem, ShowcaseItemType
from app.services.exports.pdf_cover import photo_choices
from app.services.exports.pdf_export import build_portfolio_pdf
from tests.factories import make_class, make_note, make_reflection, make_school, make_user
from tests.test_pdf_export import add_comment, add_file, add_goal, images_drawn_on

ROOT = Path(__file__).resolve().parent.parent
PNG_FOLDER = ROOT / "test-results" / "pdf"
HEADING_PT = 10.25  # body text is 10 pt; every heading (h3 10.5, h2 12, item titles 14, h1 20) is larger
FOOTER_PT = 60  # the footer sits in the bottom margin (20 mm = 57 pt); text below this is the footer
WORDS = ("volcano magma river fraction chapter garden experiment reading drawing rocket planet story music "
         "measure pattern bridge colour question answer kindness team").split()


def jpeg(width: int, height: int, shade: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 120, 200 - shade)).save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


def sentences(rng: random.Random, count: int) -> str:
    return " ".join(" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(count))


def busy_student(session, settings, tmp_path):
    """A student with thirty-odd items of every kind and length, photos of every shape, and feedback on some."""
    rng = random.Random(13)
    school = make_school(session, "Harbour View School")
    teacher = make_user(session, school, Role.teacher, display_name="Mr Okafor")
    student = make_user(session, school, display_name="Tama Rewi")
    make_class(session, school, teachers=[teacher], students=[student], name="Room 12")
    photos = []
    for n in range(10):
        make_note(session, student, title=f"Note number {n} on the {rng.choice(WORDS)}",
                  body="\n\n".join(sentences(rng, rng.randint(1, 6)) for _ in range(rng.randint(1, 5))),
                  occurred_on=date(2026, 9, 1 + n))
        shape = [(1600, 1000), (900, 1400), (1200, 1200)][n % 3]
        photos.append(add_file(session, settings, student, tmp_path, name=f"photo-{n}.jpg",
                               data=jpeg(*shape, shade=20 * n), title=f"Photo number {n} of the {rng.choice(WORDS)}"))
    for n in range(8):
        reflection = make_reflection(session, student, title=f"Reflection number {n}",
                                     body="\n\n".join(sentences(rng, rng.randint(2, 7)) for _ in range(rng.randint(1, 4))))
        if n % 3 == 0:
            add_comment(session, owner=student, author=teacher, item_type=ItemType.reflection, item_id=reflection.id,
                        body=sentences(rng, 2), next_step=sentences(rng, 1))
    for n in range(4):
        add_goal(session, student, title=f"Goal number {n}", steps=[sentences(rng, 1) for _ in range(rng.randint(1, 5))])
    return student, photos


def lines_of(page) -> list[tuple[float, float, str]]:
    """What the page shows from top to bottom: its lines of text, each (height of its baseline from the bottom of
    the paper in pt, its largest font size, its text), and its images, each (height of its bottom, 0, "[image]")."""
    chunks: list[tuple[float, float, str]] = []

    def visit_text(text, cm, tm, _font, size):
        if not text.strip():
            return
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = (tm[2] ** 2 + tm[3] ** 2) ** 0.5 * (cm[2] ** 2 + cm[3] ** 2) ** 0.5
        chunks.append((round(y, 0), round(size * scale, 2), text.strip()))

    def visit_operator(operator, _args, cm, _tm):
        if operator == b"Do":  # an image (or form) drawn in the unit square the matrix maps onto the page
            chunks.append((round(min(cm[5], cm[5] + cm[3]), 0), 0.0, "[image]"))

    page.extract_text(visitor_text=visit_text, visitor_operand_before=visit_operator)
    lines: dict[float, list[tuple[float, str]]] = {}
    for y, size, text in chunks:
        lines.setdefault(y, []).append((size, text))
    return [(y, max(size for size, _t in parts), " ".join(t for _s, t in parts))
            for y, parts in sorted(lines.items(), reverse=True)]


def check_pages(reader: PdfReader) -> None:
    """No page (after the cover) ends with a heading or is nearly empty; the last may be short, not bare."""
    height = float(reader.pages[0].mediabox.height)
    for number, page in enumerate(reader.pages[1:], start=2):
        body = [line for line in lines_of(page) if line[0] > FOOTER_PT]
        assert body, f"page {number} has nothing but its footer"
        last_y, last_size, last_text = body[-1]
        assert last_size <= HEADING_PT, f"page {number} ends with the heading {last_text!r}"
        if len(body) > 1 and 0 < last_size < 9.5:  # a title's meta line ("Evidence · Photo · date") under it
            assert body[-2][1] <= HEADING_PT, f"page {number} ends with {body[-2][2]!r} and its meta line"
        if number < len(reader.pages):
            filled = (height - last_y) / height
            assert filled > 0.5, f"page {number} is nearly empty ({filled:.0%} used), ending {last_text!r}"
        else:
            shown = sum(len(text) for _y, size, text in body if size) + 100 * sum(1 for line in body if not line[1])
            assert shown > 60, f"the last page holds only {body!r}"


def write_cover_png(pdf: Path, name: str) -> Path | None:
    """The cover as a PNG for a person to look at (when Poppler's pdftoppm is installed)."""
    if shutil.which("pdftoppm") is None:
        return None
    PNG_FOLDER.mkdir(parents=True, exist_ok=True)
    target = PNG_FOLDER / name
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "50", "-png", "-singlefile", str(pdf), str(target)],
                   check=True, timeout=60)
    return target.with_suffix(".png")


def test_a_long_portfolio_has_a_photo_cover_and_no_page_ending_with_a_heading_or_nearly_empty(
    session, settings, tmp_path, database_url
):
    student, photos = busy_student(session, settings, tmp_path)
    out = tmp_path / "portfolio.pdf"
    pages = build_portfolio_pdf(session=session, settings=settings, student=student,
                                sections=["goals", "reflections", "evidence", "feedback"], out_path=out)
    reader = PdfReader(out)
    assert pages == len(reader.pages) >= 8
    cover = reader.pages[0]
    assert images_drawn_on(cover) == 1  # the most recent photo
    cover_text = cover.extract_text()
    assert cover_text.count("Tama Rewi") == 1 and "Harbour View School" in cover_text
    assert "Sep 1, 2026 to" in cover_text  # the period the portfolio covers
    check_pages(reader)
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    png = write_cover_png(out, f"cover-portfolio-{backend}")
    assert png is None or png.stat().st_size > 1000


def test_the_cover_shows_the_photo_the_student_chose_else_the_most_recent(session, settings, tmp_path):
    from app.services.exports.pdf_content import gather_portfolio
    from app.services.exports.pdf_cover import choose_cover

    school = make_school(session)
    student = make_user(session, school, display_name="Sione Tupou")
    other = make_user(session, school)
    first = add_file(session, settings, student, tmp_path, name="a.jpg", data=jpeg(400, 300, 10), title="First")
    latest = add_file(session, settings, student, tmp_path, name="b.jpg", data=jpeg(300, 400, 90), title="Latest")
    latest.occurred_on = date(2026, 11, 2)
    session.add(latest)
    theirs = add_file(session, settings, other, tmp_path, name="c.jpg", data=jpeg(300, 300, 50), title="Theirs")
    session.commit()
    assert [a.id for a in photo_choices(session=session, student=student)] == [latest.id, first.id]

    def cover_for(chosen_id, sections=("evidence",)):
        content = gather_portfolio(session=session, settings=settings, student=student, sections=list(sections))
        return choose_cover(session=session, content=content, chosen_id=chosen_id), content

    assert cover_for(None)[0].id == latest.id
    assert cover_for(first.id)[0].id == first.id
    # Another student's photo is never taken, even if a job asks for it: the default is used instead.
    cover, content = cover_for(theirs.id)
    assert cover.id == latest.id and f"{theirs.id}-large" not in content.files
    # A chosen photo is on the cover even when the evidence is left out; without a choice there is no photo.
    cover, content = cover_for(first.id, sections=("reflections",))
    assert cover.id == first.id and content.files[f"{first.id}-large"]
    assert cover_for(None, sections=("reflections",))[0] is None
    out = tmp_path / "chosen.pdf"
    build_portfolio_pdf(session=session, settings=settings, student=student, sections=["reflections"],
                        out_path=out, cover_id=first.id)
    reader = PdfReader(out)
    assert images_drawn_on(reader.pages[0]) == 1 and len(reader.pages) == 2


def test_a_showcase_cover_uses_its_first_photo(session, settings, tmp_path, database_url):
    school = make_school(session, "Harbour View School")
    student = make_user(session, school, display_name="Mere Parata")
    note = make_note(session, student, title="Why I chose these", body="Because they show my growth.")
    later = add_file(session, settings, student, tmp_path, name="x.jpg", data=jpeg(800, 600, 30), title="Kite")
    earlier = add_file(session, settings, student, tmp_path, name="y.jpg", data=jpeg(600, 800, 60), title="Boat")
    showcase = Showcase(owner_id=student.id, title="My best term")
    session.add(showcase)
    session.flush()
    for position, item in enumerate([note, earlier, later]):
        session.add(ShowcaseItem.to(showcase_id=showcase.id, item_type=ShowcaseItemType.artefact, target_id=item.id,
                                    position=position))
    session.commit()
    out = tmp_path / "showcase.pdf"
    build_portfolio_pdf(session=session, settings=settings, student=student, sections=[], out_path=out,
                        showcase=showcase)
    reader = PdfReader(out)
    assert images_drawn_on(reader.pages[0]) == 1
    assert "My best term" in reader.pages[0].extract_text() and "Mere Parata" in reader.pages[0].extract_text()
    check_pages(reader)
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    write_cover_png(out, f"cover-showcase-{backend}")


def test_the_export_form_lets_the_student_choose_the_cover_photo(client, session, settings, tmp_path):
    from sqlmodel import select

    from app.models import Job
    from tests.factories import login

    school = make_school(session)
    student = make_user(session, school)
    other = make_user(session, school)
    mine = add_file(session, settings, student, tmp_path, name="m.jpg", data=jpeg(400, 300, 10), title="Bean sprout")
    theirs = add_file(session, settings, other, tmp_path, name="t.jpg", data=jpeg(400, 300, 90), title="Not mine")
    login(client, student)
    page = client.get("/exports").text
    assert f'name="cover_id" value="{mine.id}"' in page and "Bean sprout" in page
    assert f'value="{theirs.id}"' not in page and "Not mine" not in page

    for bad in (str(theirs.id), "abc", "999999"):
        response = client.post("/exports/pdf", data={"sections": ["evidence"], "cover_id": bad})
        assert response.status_code == 422 and "Choose one of the photos shown" in response.text
        assert 'aria-describedby="cover-error"' in response.text
    assert session.exec(select(Job)).all() == []

    assert client.post("/exports/pdf", data={"sections": ["evidence"], "cover_id": str(mine.id)}).status_code == 303
    job = session.exec(select(Job)).one()
    assert job.params == {"sections": ["evidence"], "showcase_id": None, "cover_id": mine.id}

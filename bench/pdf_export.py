"""A large portfolio as a PDF: one student with 300 items (100 photos, 60 notes, 20 links, 20 other files,
60 reflections, 40 goals), 150 comments and 12 rated competencies, exported with every section (SQLite).

Beside it, in the same run, the anchor: WeasyPrint on simple HTML holding the same items and the *original*
photos, tagged (PDF/UA-1) like Folio's. The data is made in this process; each PDF in a fresh child process (so
its peak RSS is its own), anchor and Folio interleaved over BENCH_ROUNDS rounds (default 3). Prints each run's
pages, wall and CPU time and peak RSS, then the medians and the Folio / anchor ratio (target: <= 1.0x, < 400 MB).

Run: .venv/bin/python bench/pdf_export.py  (BENCH_SCALE=2 for twice the items; BENCH_LEGACY=1 for photos without
a print copy; --keep DIR reuses data made before)
"""

from __future__ import annotations

import io
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from app import storage
from app.config import Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import (  # noqa: E402
    Artefact, ArtefactKind, Audience, CheckIn, Comment, CommentKind, CommentStatus, Competency, CompetencyRating,
    Framework, Goal, GoalStatus, GoalStep, ItemType, ProficiencyLevel, RatingSource, Reflection, ReflectionStatus,
    Role, School, User,
)
from app.services.accounts.accounts import create_user  # noqa: E402
from app.services.portfolio.stored_files import store_path  # noqa: E402

import os  # noqa: E402

SCALE = int(os.environ.get("BENCH_SCALE", "1"))  # BENCH_SCALE=2: twice as many items, to see how memory grows
PHOTOS, NOTES, LINKS, FILES, REFLECTIONS, GOALS = (n * SCALE for n in (100, 60, 20, 20, 60, 40))
COMPETENCIES = 12
# BENCH_LEGACY=1: photos without a print copy, as uploaded before it existed (the export makes one once).
LEGACY = os.environ.get("BENCH_LEGACY") == "1"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PROSE = ("I tried a new way to solve the problem and it worked better than the first one. " * 6).strip()


def settings_for(root: Path) -> Settings:
    return Settings(_env_file=None, database_url=f"sqlite:///{root / 'folio.db'}", data_dir=root / "data",
                    upload_dir=root / "uploads", secret_key="bench-secret-key-that-is-long-enough-for-it")


def photo(seed: int) -> bytes:
    """A 3000×2000 camera-sized JPEG with some texture (so it isn't trivially compressible)."""
    rng = random.Random(seed)
    small = Image.new("RGB", (60, 40))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(60 * 40)])
    image = small.resize((3000, 2000), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def build(root: Path) -> int:
    settings = settings_for(root)
    engine = make_engine(settings)
    upgrade(engine)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with Session(engine) as session:
        school = School(name="Bench Elementary")
        session.add(school)
        session.flush()
        student = create_user(session=session, school_id=school.id, role=Role.student, username="maya",
                              display_name="Maya Chen", password="bench-password")
        teacher = create_user(session=session, school_id=school.id, role=Role.teacher, username="teacher",
                              display_name="Ms Rivera", password="bench-password")
        framework = Framework(school_id=school.id, name="Core")
        session.add(framework)
        session.flush()
        levels = [ProficiencyLevel(framework_id=framework.id, position=i, label=label, descriptor=f"{label}: words")
                  for i, label in enumerate(("Emerging", "Developing", "Proficient", "Extending"), start=1)]
        competencies = [Competency(framework_id=framework.id, code=f"C{i:02d}", name=f"Competency {i}", position=i)
                        for i in range(COMPETENCIES)]
        session.add_all(levels + competencies)
        session.flush()
        sources = root / "sources"
        sources.mkdir()
        artefacts: list[Artefact] = []
        for i in range(PHOTOS):
            path = sources / f"photo{i}.jpg"
            path.write_bytes(photo(i))
            stored = store_path(path=path, store=storage.uploads(settings), owner_id=student.id,
                                original_name=f"photo{i}.jpg")
            path.unlink()
            if LEGACY:  # as uploaded before print copies existed: no file, no record
                (settings.upload_dir / stored.thumb_print).unlink()
            artefacts.append(Artefact(
                owner_id=student.id, kind=ArtefactKind.file, title=f"Photo {i}", description=PROSE[:120],
                occurred_on=date(2026, 9, 1) + timedelta(days=i % 80), stored_name=stored.stored_name,
                original_name=stored.original_name, content_type=stored.content_type, media_kind=stored.media_kind,
                size_bytes=stored.size_bytes, width=stored.width, height=stored.height,
                thumb_small=stored.thumb_small, thumb_large=stored.thumb_large,
                thumb_print=None if LEGACY else stored.thumb_print))
        for i in range(NOTES):
            artefacts.append(Artefact(owner_id=student.id, kind=ArtefactKind.note, title=f"Note {i}", body=PROSE,
                                      occurred_on=date(2026, 9, 1) + timedelta(days=i)))
        for i in range(LINKS):
            artefacts.append(Artefact(owner_id=student.id, kind=ArtefactKind.link, title=f"Link {i}",
                                      url=f"https://example.org/page/{i}", occurred_on=date(2026, 9, 2)))
        for i in range(FILES):
            path = sources / f"report{i}.pdf"
            path.write_bytes(b"%PDF-1.4\n" + b"0" * 50_000)
            try:
                stored = store_path(path=path, store=storage.uploads(settings), owner_id=student.id,
                                    original_name=f"report{i}.pdf")
            except Exception:  # noqa: BLE001 - a refused fake PDF: record it as a plain row
                stored = None
            artefacts.append(Artefact(
                owner_id=student.id, kind=ArtefactKind.file, title=f"Report {i}", occurred_on=date(2026, 10, 1),
                stored_name=stored.stored_name if stored else f"u{student.id}/report{i}.pdf",
                original_name=f"report{i}.pdf", content_type="application/pdf",
                media_kind=stored.media_kind if stored else None, size_bytes=50_009))
        session.add_all(artefacts)
        reflections = [Reflection(owner_id=student.id, title=f"Reflection {i}", body=f"## Thinking\n\n{PROSE}\n\n"
                                  f"- one\n- two\n\nSee [this](https://example.org/r/{i}).",
                                  status=ReflectionStatus.published, audience=Audience.private,
                                  published_at=now - timedelta(days=i)) for i in range(REFLECTIONS)]
        goals = [Goal(owner_id=student.id, title=f"Goal {i}", why=PROSE[:200], success_criteria=PROSE[:150],
                      status=GoalStatus.active) for i in range(GOALS)]
        session.add_all(reflections + goals)
        session.flush()
        for goal in goals:
            session.add_all([GoalStep(goal_id=goal.id, text=f"Step {n}", position=n, done=n < 2) for n in range(4)])
            session.add(CheckIn(goal_id=goal.id, occurred_on=date(2026, 10, 1), note="Going well"))
        for n, item in enumerate(artefacts[:50] + reflections + goals):
            item_type = ItemType.artefact if isinstance(item, Artefact) else (
                ItemType.reflection if isinstance(item, Reflection) else ItemType.goal)
            session.add(Comment(item_type=item_type, item_id=item.id, owner_id=student.id, author_id=teacher.id,
                                kind=CommentKind.teacher, body=PROSE[:180], next_step="Try another example",
                                status=CommentStatus.visible, created_at=now - timedelta(hours=n)))
        for competency in competencies:
            for k in range(4):
                for source, rater in ((RatingSource.self, student), (RatingSource.teacher, teacher)):
                    session.add(CompetencyRating(student_id=student.id, competency_id=competency.id,
                                                 level_id=levels[min(k, 3)].id, rated_by_id=rater.id, source=source,
                                                 reason="Because", created_at=now - timedelta(days=30 * (4 - k))))
        session.commit()
        student_id = student.id
    engine.dispose()
    return student_id


def _usage() -> tuple[float, float]:
    """(CPU seconds so far, peak RSS in MB) of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def export(root: Path, student_id: int) -> None:
    """In the child: make Folio's PDF and print its figures (the last line: key=value pairs for the parent)."""
    import weasyprint  # noqa: F401  (imported before the baseline, so it counts the export's own memory)

    from app.services.exports.pdf_sections import SECTION_ORDER
    from app.services.exports.pdf_export import build_portfolio_pdf

    settings = settings_for(root)
    engine = make_engine(settings)
    cpu0, baseline = _usage()
    stages: list[tuple[float, str]] = []
    started = time.perf_counter()
    with Session(engine) as session:
        student = session.exec(select(User).where(User.id == student_id)).one()
        out = root / "portfolio.pdf"
        pages = build_portfolio_pdf(session=session, settings=settings, student=student, sections=list(SECTION_ORDER),
                                    out_path=out,
                                    progress=lambda d, t, s: stages.append((time.perf_counter() - started, s)))
        session.commit()  # as the job runner does: print copies made for older photos are kept
    elapsed = time.perf_counter() - started
    cpu1, peak = _usage()
    print("  stages: " + ", ".join(f"{s} at {t:.1f}s" for t, s in stages))
    print(f"RESULT pages={pages} mb={out.stat().st_size / 1024 / 1024:.1f} wall={elapsed:.2f} cpu={cpu1 - cpu0:.2f} "
          f"rss={peak:.0f} base={baseline:.0f}")


def anchor_html(root: Path, student_id: int) -> str:
    """The anchor document: the same items, photos and comments as Folio's PDF, as the simplest HTML (headings,
    paragraphs, lists, one <img> per photo pointing at the *original* upload), default styles and no web fonts."""
    from html import escape

    settings = settings_for(root)
    engine = make_engine(settings)
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Portfolio of Maya Chen</title>'
             '<style>@page { size: A4; margin: 20mm } img { max-width: 100%; max-height: 150mm } '
             'section { break-before: page }</style></head><body><h1>Portfolio of Maya Chen</h1>']
    with Session(engine) as session:
        parts.append("<section><h1>Goals</h1>")
        for goal in session.exec(select(Goal).where(Goal.owner_id == student_id).order_by(Goal.id)):
            parts.append(f"<h2>{escape(goal.title)}</h2><p>{escape(goal.why)}</p><p>{escape(goal.success_criteria)}</p>"
                         "<ul><li>Step 0</li><li>Step 1</li><li>Step 2</li><li>Step 3</li></ul><p>Going well</p>")
        parts.append("</section><section><h1>Reflections</h1>")
        for reflection in session.exec(select(Reflection).where(Reflection.owner_id == student_id)
                                       .order_by(Reflection.id)):
            parts.append(f"<h2>{escape(reflection.title)}</h2><h3>Thinking</h3><p>{escape(PROSE)}</p>"
                         "<ul><li>one</li><li>two</li></ul><p>See <a href=\"https://example.org/r\">this</a>.</p>")
        parts.append("</section><section><h1>Evidence</h1>")
        for artefact in session.exec(select(Artefact).where(Artefact.owner_id == student_id).order_by(Artefact.id)):
            parts.append(f"<h2>{escape(artefact.title)}</h2><p>{artefact.occurred_on.isoformat()}</p>")
            if artefact.width:
                original = (settings.upload_dir / artefact.stored_name).resolve().as_uri()
                parts.append(f'<img src="{original}" alt="{escape(artefact.title)}">')
            parts.append(f"<p>{escape(artefact.description or artefact.body or artefact.url or '')}</p>")
        parts.append("</section><section><h1>Feedback</h1>")
        for comment in session.exec(select(Comment).where(Comment.owner_id == student_id).order_by(Comment.id)):
            parts.append(f"<h2>Item {comment.item_id}</h2><p>Ms Rivera</p><p>{escape(comment.body)}</p>"
                         f"<p>Next step: {escape(comment.next_step)}</p>")
        parts.append("</section><section><h1>Competencies</h1>")
        for competency in session.exec(select(Competency).order_by(Competency.id)):
            parts.append(f"<h2>{competency.code} {escape(competency.name)}</h2><ul>"
                         + "<li>Proficient, Because</li>" * 8 + "</ul>")
        parts.append("</section></body></html>")
    engine.dispose()
    return "".join(parts)


def anchor(root: Path, student_id: int) -> None:
    """In the child: the anchor, WeasyPrint on simple HTML with the originals embedded, tagged (PDF/UA-1) like
    Folio's PDF."""
    import weasyprint

    cpu0, baseline = _usage()
    started = time.perf_counter()
    html = anchor_html(root, student_id)
    out = root / "anchor.pdf"
    document = weasyprint.HTML(string=html, base_url=str(root)).render(pdf_variant="pdf/ua-1")
    document.write_pdf(out, pdf_variant="pdf/ua-1")
    elapsed = time.perf_counter() - started
    cpu1, peak = _usage()
    print(f"RESULT pages={len(document.pages)} mb={out.stat().st_size / 1024 / 1024:.1f} wall={elapsed:.2f} "
          f"cpu={cpu1 - cpu0:.2f} rss={peak:.0f} base={baseline:.0f}")


def run_child(mode: str, root: Path, student_id: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, mode, str(root), str(student_id)], check=True,
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    for line in lines[:-1]:
        print(line)
    return {key: float(value) for key, value in (pair.split("=") for pair in lines[-1].split()[1:])}


def compare(root: Path, student_id: int) -> None:
    """ROUNDS rounds, each the anchor then Folio in fresh child processes (interleaved, so both see the same load);
    then the medians and Folio / anchor ratios."""
    figures: dict[str, list[dict[str, float]]] = {"anchor": [], "folio": []}
    for round_number in range(1, ROUNDS + 1):
        for name, mode in (("anchor", "--anchor"), ("folio", "--export")):
            result = run_child(mode, root, student_id)
            figures[name].append(result)
            print(f"round {round_number} {name:6}: {result['pages']:.0f} pages, {result['mb']:.1f} MB, "
                  f"wall {result['wall']:.2f} s, CPU {result['cpu']:.2f} s, peak RSS {result['rss']:.0f} MB "
                  f"(after imports {result['base']:.0f} MB)", flush=True)
    medians = {name: {key: statistics.median(r[key] for r in runs) for key in runs[0]} for name, runs in figures.items()}
    for name, m in medians.items():
        print(f"median {name:6}: wall {m['wall']:.2f} s, CPU {m['cpu']:.2f} s, peak RSS {m['rss']:.0f} MB")
    print(f"Folio / anchor: wall {medians['folio']['wall'] / medians['anchor']['wall']:.2f}x, "
          f"CPU {medians['folio']['cpu'] / medians['anchor']['cpu']:.2f}x  (target <= 1.0x; peak RSS < 400 MB)")
    try:
        print(f"load average: {os.getloadavg()[0]:.1f}")
    except OSError:
        pass


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] in ("--export", "--anchor"):
        (export if sys.argv[1] == "--export" else anchor)(Path(sys.argv[2]), int(sys.argv[3]))
        return
    keep = sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--keep" else None  # reuse data made before
    with tempfile.TemporaryDirectory(prefix="folio-pdf-bench-") as folder:
        root = Path(keep or folder)
        if keep and (root / "folio.db").exists():
            compare(root, 1)
            return
        root.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        student_id = build(root)
        uploads = sum(p.stat().st_size for p in (root / "uploads").rglob("*") if p.is_file())
        print(f"portfolio: {PHOTOS + NOTES + LINKS + FILES + REFLECTIONS + GOALS} items "
              f"({PHOTOS} photos of 3000×2000{', no print copies' if LEGACY else ''}), uploads "
              f"{uploads / 1024 / 1024:.0f} MB, made in {time.perf_counter() - started:.0f} s", flush=True)
        compare(root, student_id)


if __name__ == "__main__":
    main()

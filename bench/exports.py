"""Export time and peak memory, PDF and portable archive, for the demo portfolio (Maya) and a synthetic one
(300 items with 100 photos, built by bench/pdf_export.py's `build`). Each export runs in a fresh child process,
so its peak RSS is its own.

Run: .venv/bin/python bench/exports.py
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session, select  # noqa: E402

from app import storage
from app.db import make_engine  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import User  # noqa: E402
from bench.pdf_export import build, settings_for  # noqa: E402


def child(root: Path, student_id: int, what: str) -> None:
    """In the child: one export, then its figures on one line."""
    import weasyprint  # noqa: F401  (imported before the baseline: the figure is the export's own memory)

    from app.services.exports.archive_export import build_archive
    from app.services.exports.pdf_sections import SECTION_ORDER
    from app.services.exports.pdf_export import build_portfolio_pdf

    settings = settings_for(root)
    engine = make_engine(settings)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    with Session(engine) as session:
        student = session.exec(select(User).where(User.id == student_id)).one()
        if what == "pdf":
            out = root / "portfolio.pdf"
            pages = build_portfolio_pdf(session=session, settings=settings, student=student,
                                        sections=list(SECTION_ORDER), out_path=out)
            detail = f"{pages} pages"
        else:
            out = root / "archive.zip"
            build_archive(session=session, settings=settings, student=student, out_path=out)
            detail = "archive"
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{what}: {detail}, {out.stat().st_size / 1024 / 1024:.1f} MB, {elapsed:.1f} s, "
          f"peak RSS {peak:.0f} MB (+{peak - baseline:.0f} MB over the imports)")


def demo(root: Path) -> int:
    from app.services.demo.demo import seed_demo

    settings = settings_for(root)
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine) as session:
        seed_demo(session=session, only_if_empty=True, store=storage.uploads(settings))
        student_id = session.exec(select(User.id).where(User.username == "student")).one()
    engine.dispose()
    return student_id


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        return
    for name, make in (("demo portfolio (Maya)", demo), ("synthetic: 300 items, 100 photos", build)):
        with tempfile.TemporaryDirectory(prefix="folio-export-bench-") as folder:
            root = Path(folder)
            student_id = make(root)
            print(f"== {name}")
            for what in ("pdf", "archive"):
                subprocess.run([sys.executable, __file__, "--child", str(root), str(student_id), what], check=True)


if __name__ == "__main__":
    main()

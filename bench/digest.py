"""Family digests at school size: 1,000 families (one child and one guardian each; every child shares two notes
and every fourth a photo, with a teacher's comment on each photo), sent to a local aiosmtpd sink.

Figures: the time for one `send_due` run to send them all; then two runs started together (cron and a manual run)
a week later, which must send each digest once between them; then a third run, which must send nothing.

Run: .venv/bin/python bench/digest.py            (SQLite in a temporary folder)
     FOLIO_BENCH_POSTGRES=1 .venv/bin/python bench/digest.py   (a throwaway PostgreSQL, as the tests use)
     FOLIO_BENCH_FAMILIES=100 ...                              (a smaller school)
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from queue import Empty

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app import storage  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import (  # noqa: E402
    Artefact, ArtefactKind, Audience, Comment, CommentKind, CommentStatus, GuardianLink, Item, ItemType, Role, School,
    User,
)
from app.services.family import digests  # noqa: E402
from app.services.portfolio import stored_files
from app.services.portfolio.artefacts import ArtefactInput, create_file_artefacts  # noqa: E402

FAMILIES = int(os.environ.get("FOLIO_BENCH_FAMILIES", "1000"))
PHOTO_EVERY = 4


class Sink:
    """An aiosmtpd handler in a process of its own (in this one it would compete with the sender for the GIL):
    each message's recipients and size go back through a queue."""

    def __init__(self, queue) -> None:
        self.queue = queue

    async def handle_DATA(self, server, session, envelope):
        self.queue.put((list(envelope.rcpt_tos), len(envelope.original_content)))
        return "250 OK"


def _serve_sink(port: int, queue) -> None:
    controller = Controller(Sink(queue), hostname="127.0.0.1", port=port)
    controller.start()
    threading.Event().wait()


class Received:
    def __init__(self, queue) -> None:
        self.queue = queue
        self.recipients: list[str] = []
        self.sizes: list[int] = []

    @property
    def count(self) -> int:
        while True:
            try:
                recipients, size = self.queue.get(timeout=0.2)
            except Empty:
                return len(self.sizes)
            self.recipients.extend(recipients)
            self.sizes.append(size)

    @property
    def bytes(self) -> int:
        return sum(self.sizes)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _photo(path: Path) -> Path:
    from PIL import Image

    image = Image.new("RGB", (1200, 800), (200, 120, 40))
    for x in range(0, 1200, 40):
        image.paste((40, 90, 160), (x, 0, x + 20, 800))
    image.save(path, "JPEG", quality=85)
    return path


def build(engine, settings: Settings, folder: Path, linked_at: datetime) -> None:
    """The school: FAMILIES children with their guardians and what they shared."""
    source = _photo(folder / "photo.jpg")
    store = storage.uploads(settings)
    with Session(engine) as session:
        school = School(name="Bench")
        session.add(school)
        session.flush()
        teacher = User(school_id=school.id, role=Role.teacher, username="teacher", display_name="Ms Rivera",
                       password_hash="!")
        session.add(teacher)
        children = [User(school_id=school.id, role=Role.student, username=f"s{i}", display_name=f"Child {i}",
                         password_hash="!") for i in range(FAMILIES)]
        guardians = [User(school_id=school.id, role=Role.guardian, username=f"g{i}", display_name=f"Parent {i}",
                          email=f"parent{i}@example.org", password_hash="!") for i in range(FAMILIES)]
        session.add_all(children + guardians)
        session.flush()
        session.add_all([GuardianLink(guardian_id=g.id, student_id=c.id, created_at=linked_at)
                         for g, c in zip(guardians, children)])
        session.add_all([Artefact(owner_id=c.id, kind=ArtefactKind.note, title=f"{c.display_name}'s note {n}",
                                  body="From the top of the hill I saw the sea and the boats.",
                                  audience=Audience.family, occurred_on=date.today())
                         for c in children for n in range(2)])
        session.commit()
        for i, child in enumerate(children):
            if i % PHOTO_EVERY:
                continue
            stored = stored_files.store_path(path=source, store=store, owner_id=child.id, original_name="photo.jpg")
            (photo,) = create_file_artefacts(session=session, owner=child, files=[stored], data=ArtefactInput(
                title="Our bridge of straws", audience=Audience.family))
            session.flush()
            session.add(Comment(item_type=ItemType.artefact, item_id=photo.id, owner_id=child.id,
                                author_id=teacher.id, kind=CommentKind.teacher, status=CommentStatus.visible,
                                body="Strong joints: it held two books!"))
        session.commit()


def run(engine, settings: Settings, now: datetime) -> digests.SendReport:
    with Session(engine) as session:
        return digests.send_due(session=session, settings=settings, now=now)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="folio-bench-digest-"))
    url = f"sqlite:///{folder / 'folio.db'}"
    postgres = None
    if os.environ.get("FOLIO_BENCH_POSTGRES"):
        from tests.pg_server import ThrowawayPostgres

        postgres = ThrowawayPostgres()
        postgres.start()
        url = postgres.create_database("bench_digest")
    queue = multiprocessing.Queue()
    port = _free_port()
    server = multiprocessing.Process(target=_serve_sink, args=(port, queue), daemon=True)
    server.start()
    time.sleep(1.0)
    sink = Received(queue)
    settings = Settings(_env_file=None, database_url=url, data_dir=folder / "data", upload_dir=folder / "uploads",
                        secret_key="bench-secret-key-that-is-long-enough-for-it", base_url="https://folio.example",
                        smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                        mail_from="Folio <folio@school.example>")
    engine = make_engine(settings)
    upgrade(engine)
    linked_at = datetime.now(UTC) - timedelta(minutes=1)
    started = time.perf_counter()
    build(engine, settings, folder, linked_at)
    print(f"{FAMILIES} families built in {time.perf_counter() - started:.1f} s ({engine.dialect.name})")

    first = linked_at + timedelta(days=7)
    started = time.perf_counter()
    if os.environ.get("FOLIO_BENCH_PROFILE"):
        import cProfile

        cProfile.runctx("report = run(engine, settings, first)", globals(), locals_ := dict(
            run=run, engine=engine, settings=settings, first=first), sort=os.environ.get("FOLIO_BENCH_PROFILE"))
        report = locals_["report"]
    else:
        report = run(engine, settings, first)
    elapsed = time.perf_counter() - started
    received = sink.count
    print(f"first run: {report.sent} sent ({received} received) in {elapsed:.1f} s ({report.sent / elapsed:.0f}/s); "
          f"{sink.bytes / max(received, 1) / 1024:.0f} KiB a message on average; report {report}")

    # A week later cron and a manual run start together: each digest must go once between them.
    received_before = sink.count
    second = first + timedelta(days=7)
    with Session(engine) as session:  # something new for everyone, so every digest is due and non-empty
        session.add_all([Artefact(owner_id=child_id, kind=ArtefactKind.note, title="Second week", body="More",
                                  audience=Audience.family, occurred_on=date.today(), created_at=second - timedelta(days=1),
                                  updated_at=second - timedelta(days=1))
                         for child_id in session.exec(
                             User.__table__.select().with_only_columns(User.id).where(User.role == Role.student)
                         ).scalars()])
        session.flush()
        # (the items rows carry the time the digest reads)
        session.execute(sa.update(Item).where(Item.title == "Second week").values(updated_at=second - timedelta(days=1)))
        session.commit()
    reports: dict[str, digests.SendReport] = {}
    threads = [threading.Thread(target=lambda at=at, name=name: reports.__setitem__(name, run(engine, settings, at)))
               for name, at in (("cron", second), ("manual, 0.5 s later", second + timedelta(seconds=2)))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
        time.sleep(0.5)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    overlapping = sink.count - received_before
    print(f"two overlapping runs: {overlapping} received in {elapsed:.1f} s. "
          + "; ".join(f"{name}: {r.sent} sent, {r.busy} being sent by the other, {r.not_due} already sent"
                      for name, r in reports.items()))

    third = run(engine, settings, second + timedelta(minutes=5))
    print(f"a third run five minutes later: {third.sent} sent ({third.not_due} not due)")
    per_guardian = {}
    for address in sink.recipients:
        per_guardian[address] = per_guardian.get(address, 0) + 1
    print(f"digests per family in total: {sorted(set(per_guardian.values()))} (2 expected: one a week)")
    server.terminate()
    engine.dispose()
    if postgres is not None:
        postgres.stop()


if __name__ == "__main__":
    main()

"""A teacher's class views at size: one class of 40 students with 200 items each (SQLite), timing
GET /classes/{id}/overview and /classes/{id}/grid through the real app and counting their queries.

Run: .venv/bin/python bench/class_overview.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

import sqlalchemy as sa  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.config import Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import (  # noqa: E402
    Artefact, ArtefactKind, Audience, ClassFramework, ClassRole, Comment, CommentKind, CommentStatus, Competency,
    CompetencyRating, Enrollment, FeedbackRequest, Framework, Goal, GoalStatus, ItemType, ProficiencyLevel,
    RatingSource, Reflection, ReflectionStatus, RequestStatus, Role, School, SchoolClass, User,
)
from app.services.accounts.accounts import create_user  # noqa: E402

STUDENTS = 40
ARTEFACTS, REFLECTIONS, GOALS = 120, 60, 20  # 200 items per student
COMPETENCIES = 12
RATINGS_PER_PAIR = 3  # per student, competency and source
RUNS = 5
PASSWORD = "bench-password"


def build(engine) -> int:
    """The school, teacher, class, students and their items, inserted in bulk; returns the class id."""
    today = date(2026, 11, 23)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with Session(engine) as session:
        school = School(name="Bench")
        session.add(school)
        session.flush()
        teacher = create_user(session=session, school_id=school.id, role=Role.teacher, username="teacher",
                              display_name="Teacher", password=PASSWORD)
        school_class = SchoolClass(school_id=school.id, name="Bench class", year="2026–27", join_code="BENCH1")
        framework = Framework(school_id=school.id, name="Core")
        session.add_all([school_class, framework])
        session.flush()
        session.add(ClassFramework(class_id=school_class.id, framework_id=framework.id))
        levels = [ProficiencyLevel(framework_id=framework.id, position=i, label=label)
                  for i, label in enumerate(("Emerging", "Developing", "Proficient", "Extending"), start=1)]
        competencies = [Competency(framework_id=framework.id, code=f"C{i:02d}", name=f"Competency {i}", position=i)
                        for i in range(COMPETENCIES)]
        students = [User(school_id=school.id, role=Role.student, username=f"s{i:02d}", display_name=f"Student {i:02d}",
                         password_hash="!") for i in range(STUDENTS)]
        session.add_all([*levels, *competencies, *students])
        session.flush()
        session.add_all([Enrollment(class_id=school_class.id, user_id=teacher.id, role=ClassRole.teacher)] +
                        [Enrollment(class_id=school_class.id, user_id=s.id, role=ClassRole.student) for s in students])
        session.execute(sa.insert(Artefact), [
            dict(owner_id=s.id, kind=ArtefactKind.note, title=f"Note {n}", body="words", audience=Audience.private,
                 occurred_on=today - timedelta(days=n), created_at=now, updated_at=now)
            for s in students for n in range(ARTEFACTS)])
        session.execute(sa.insert(Reflection), [
            dict(owner_id=s.id, title=f"Reflection {n}", body="I learned", audience=Audience.private,
                 status=ReflectionStatus.published if n % 4 else ReflectionStatus.draft, version=1,
                 created_at=now - timedelta(days=n + i % 20), updated_at=now,
                 published_at=now - timedelta(days=n + i % 20))
            for i, s in enumerate(students) for n in range(REFLECTIONS)])
        session.execute(sa.insert(Goal), [
            dict(owner_id=s.id, title=f"Goal {n}", status=list(GoalStatus)[n % 4], audience=Audience.private,
                 created_at=now, updated_at=now)
            for s in students for n in range(GOALS)])
        first_artefact = session.execute(sa.select(sa.func.min(Artefact.id))).scalar_one()
        session.execute(sa.insert(FeedbackRequest), [
            dict(student_id=s.id, item_type=ItemType.artefact, item_id=first_artefact, status=list(RequestStatus)[n % 3],
                 created_at=now) for s in students for n in range(6)])
        session.execute(sa.insert(Comment), [
            dict(item_type=ItemType.artefact, item_id=first_artefact, owner_id=s.id, author_id=teacher.id,
                 kind=CommentKind.teacher, body="Well done", status=list(CommentStatus)[n % 4], created_at=now)
            for s in students for n in range(8)])
        session.execute(sa.insert(CompetencyRating), [
            dict(student_id=s.id, competency_id=c.id, level_id=levels[(n + c.position) % 4].id,
                 rated_by_id=s.id if source is RatingSource.self else teacher.id, source=source, reason="",
                 created_at=now - timedelta(days=30 * n))
            for s in students for c in competencies for source in RatingSource for n in range(RATINGS_PER_PAIR)])
        session.commit()
        return school_class.id


def measure(client: TestClient, engine, path: str) -> tuple[float, float, int]:
    """Median and best of RUNS timed GETs after a warm-up, and the queries one GET runs."""
    assert client.get(path).status_code == 200
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    response = client.get(path)
    sa.event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), len(statements)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        settings = Settings(_env_file=None, database_url=f"sqlite:///{root / 'folio.db'}", data_dir=root,
                            upload_dir=root / "uploads", secret_key="bench-" * 8, base_url="http://testserver")
        engine = make_engine(settings)
        upgrade(engine)
        started = time.perf_counter()
        class_id = build(engine)
        print(f"built {STUDENTS} students x {ARTEFACTS + REFLECTIONS + GOALS} items, "
              f"{STUDENTS * COMPETENCIES * 2 * RATINGS_PER_PAIR} ratings in {time.perf_counter() - started:.1f} s")
        engine.dispose()
        app = create_app(settings)
        with TestClient(app, base_url="http://testserver") as client:
            assert client.post("/login", data={"identifier": "teacher", "password": PASSWORD},
                               follow_redirects=False).status_code == 303
            for name in ("overview", "grid"):
                median, best, queries = measure(client, app.state.engine, f"/classes/{class_id}/{name}")
                print(f"GET /classes/{{id}}/{name}: median {median * 1000:.0f} ms, best {best * 1000:.0f} ms "
                      f"({RUNS} runs after a warm-up), {queries} queries")
        app.state.engine.dispose()


if __name__ == "__main__":
    main()

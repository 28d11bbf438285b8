"""Folio at district scale on PostgreSQL: 100,000 students and 10,000,000 items, loaded in bulk with COPY, then
the class overview, student home, search and family home timed through the real app (in-process, signed in as
many different users) with EXPLAIN (ANALYZE, BUFFERS) of every query each page runs.

Run:
    .venv/bin/python bench/scale.py                          # full scale in a throwaway cluster (~1 h, ~15 GB)
    .venv/bin/python bench/scale.py --students 2000          # a quick run (200,000 items)
    .venv/bin/python bench/scale.py --url postgresql+psycopg://... [--skip-build]   # an existing database

The schema is Folio's own (migrated to head); secondary indexes and foreign keys of the loaded tables are dropped
for the load and re-created afterwards exactly as the migrations made them, so the measured database is what
`folio migrate` would have built. The data: schools of 1,000 students, classes of 30 with a teacher (each teacher
has two classes), one or two guardians per student (a fifth of guardians have two children), 100 items per student
(60 artefacts, 30 reflections, 10 goals; private/class/family about 40/35/25 %, 15 % of reflections drafts), items
spread over the last ~200 days and interleaved between students the way a district writes them, 2 steps per goal,
10 comments, 3 feedback requests, 12 competency ratings and 5 notifications per student.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.config import Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.migrate import upgrade  # noqa: E402

PASSWORD = "bench-password"
CLASS_SIZE = 30
SCHOOL_SIZE = 1000
ITEMS_PER_STUDENT = 100  # per 10: 6 artefacts, 3 reflections, 1 goal
COMPETENCIES = 12
LOADED = ("schools", "users", "classes", "enrollments", "guardian_links", "frameworks", "competencies",
          "proficiency_levels", "class_frameworks", "items", "artefacts", "reflections", "goals", "goal_steps",
          "comments", "feedback_requests", "competency_ratings", "notifications")

WORDS = (
    "photosynthesis fractions volcano river poem essay experiment chemistry biology history geography music drama "
    "painting sculpture football basketball swimming orchestra choir debate speech presentation poster model "
    "robot circuit algorithm program spreadsheet graph equation triangle circle measurement fraction decimal "
    "percentage probability statistics climate weather ecosystem habitat species insect bird mammal reptile "
    "planet moon star galaxy energy force motion magnet electricity light sound water cycle rock mineral soil "
    "volunteer community garden recycling kindness teamwork leadership courage curiosity creativity persistence "
    "reading writing spelling grammar vocabulary story character setting plot theme author novel chapter diary "
    "letter interview survey report research source evidence argument opinion feedback revision draft final "
    "café crème brûlée élan naïve résumé façade piñata déjà vu fiancée jalapeño über smörgåsbord señora garçon "
    "français español année école élève été hôpital forêt château bibliothèque théâtre musée cinéma"
).split()


def _pseudo_words(rng: random.Random, n: int) -> list[str]:
    syllables = ["ba", "ke", "lo", "mi", "nu", "ra", "si", "to", "ve", "zu", "dra", "fle", "gri", "pla", "sto", "tre"]
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(n)]


class Text:
    """Pools of titles and bodies drawn from a few thousand words, picked by item number (fast and repeatable)."""

    def __init__(self, seed: int = 42):
        rng = random.Random(seed)
        vocabulary = WORDS + _pseudo_words(rng, 4000)
        weights = [8.0 if i < len(WORDS) else 1.0 for i in range(len(vocabulary))]
        self.titles = [" ".join(rng.choices(vocabulary, weights, k=rng.randint(2, 5))).capitalize()
                       for _ in range(5003)]
        self.bodies = [" ".join(rng.choices(vocabulary, weights, k=rng.randint(12, 45))).capitalize() + "."
                       for _ in range(20011)]

    def title(self, n: int) -> str:
        return self.titles[(n * 7919) % len(self.titles)]

    def body(self, n: int) -> str:
        return self.bodies[(n * 104729) % len(self.bodies)]


# --- the data --------------------------------------------------------------------------------


class Plan:
    """Who is who: ids and relationships of a district of `students` students, all derived arithmetically."""

    def __init__(self, students: int):
        self.students = students
        self.classes = -(-students // CLASS_SIZE)
        self.schools = -(-students // SCHOOL_SIZE)
        self.teachers = -(-self.classes // 2)
        self.primary_guardians = max(1, students * 4 // 5)
        self.second_guardians = students // 3
        self.items = students * ITEMS_PER_STUDENT
        # user ids: students, then teachers, then guardians
        self.first_teacher = students + 1
        self.first_guardian = self.first_teacher + self.teachers
        self.users = students + self.teachers + self.primary_guardians + self.second_guardians

    def student_id(self, i: int) -> int:
        return i + 1

    def class_of(self, i: int) -> int:  # class id of student index i
        return i // CLASS_SIZE + 1

    def school_of_class(self, class_id: int) -> int:
        return (class_id - 1) * CLASS_SIZE // SCHOOL_SIZE + 1

    def teacher_of_class(self, class_id: int) -> int:
        return self.first_teacher + (class_id - 1) // 2

    def guardians_of(self, i: int) -> list[int]:
        found = [self.first_guardian + i % self.primary_guardians]
        if i % 3 == 0 and i // 3 < self.second_guardians:
            found.append(self.first_guardian + self.primary_guardians + i // 3)
        return found

    def item(self, n: int) -> tuple[int, int, str]:
        """(owner index, position among the owner's items, type) of item number n (id n + 1)."""
        owner, seq = n % self.students, n // self.students
        slot = seq % 10
        return owner, seq, "artefact" if slot < 6 else "reflection" if slot < 9 else "goal"


def _esc(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy(connection: psycopg.Connection, table: str, columns: list[str], rows, batch: int = 20000) -> int:
    """COPY rows (tuples) into table in batches of preformatted text; returns how many."""
    count = 0
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(map(_esc, row)))
            buffer.write("\n")
            count += 1
            if count % batch == 0:
                copy.write(buffer.getvalue().encode())
                buffer = io.StringIO()
        copy.write(buffer.getvalue().encode())
    return count


def _names(i: int) -> str:
    first = ("Maya", "Noah", "Léa", "Omar", "Zoë", "Ivan", "Aiko", "Chloé", "Mateo", "Ana", "Finn", "Inès", "Kofi")
    last = ("García", "Smith", "Nguyen", "Müller", "Dubois", "Kowalski", "Okafor", "Rossi", "Tanaka", "Silva")
    return f"{first[i % len(first)]} {last[(i // len(first)) % len(last)]} {i}"


def load(connection: psycopg.Connection, plan: Plan, password_hash: str, log) -> None:
    """Every row of the district, table by table, through COPY."""
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    text = Text()
    ts = lambda d: now - timedelta(days=d)  # noqa: E731

    def timed(table, columns, rows):
        started = time.perf_counter()
        n = _copy(connection, table, columns, rows)
        log(f"  {table}: {n:,} rows in {time.perf_counter() - started:.1f} s")

    timed("schools", ["id", "name", "created_at"], ((s, f"School {s}", ts(400)) for s in range(1, plan.schools + 1)))
    user_columns = ["id", "school_id", "role", "username", "display_name", "password_hash", "is_active",
                    "must_change_password", "created_at", "storage_used_bytes", "digest_frequency",
                    "email_notifications"]

    def users():
        for i in range(plan.students):
            yield (plan.student_id(i), plan.school_of_class(plan.class_of(i)), "student", f"s{i}", _names(i),
                   password_hash, True, False, ts(400), 0, "weekly", False)
        for t in range(plan.teachers):
            yield (plan.first_teacher + t, plan.school_of_class(2 * t + 1), "teacher", f"t{t}", f"Teacher {t}",
                   password_hash, True, False, ts(400), 0, "weekly", False)
        for g in range(plan.primary_guardians + plan.second_guardians):
            student = g if g < plan.primary_guardians else (g - plan.primary_guardians) * 3
            yield (plan.first_guardian + g, plan.school_of_class(plan.class_of(student)), "guardian", f"g{g}",
                   f"Guardian {g}", password_hash, True, False, ts(400), 0, "weekly", False)

    timed("users", user_columns, users())
    timed("classes", ["id", "school_id", "name", "year", "join_code", "archived", "created_at",
                      "classmates_see_class_items", "peer_comments_need_approval", "family_items_need_approval",
                      "secret_links_allowed"],
          ((c, plan.school_of_class(c), f"Class {c}", "2026–27", f"J{c:09d}", False, ts(100), True, True, False, True)
           for c in range(1, plan.classes + 1)))

    def enrollments():
        for c in range(1, plan.classes + 1):
            yield (c, plan.teacher_of_class(c), "teacher", ts(100), "class_creator")
        for i in range(plan.students):
            yield (plan.class_of(i), plan.student_id(i), "student", ts(100), "roster")

    timed("enrollments", ["class_id", "user_id", "role", "created_at", "enrolled_via"], enrollments())
    timed("guardian_links", ["guardian_id", "student_id", "created_at"],
          ((g, plan.student_id(i), ts(90)) for i in range(plan.students) for g in plan.guardians_of(i)))
    timed("frameworks", ["id", "school_id", "name", "description", "archived", "created_at"],
          ((s, s, "Core competencies", "", False, ts(300)) for s in range(1, plan.schools + 1)))
    timed("competencies", ["id", "framework_id", "code", "name", "description", "position", "archived", "created_at"],
          (((s - 1) * COMPETENCIES + k + 1, s, f"C{k:02d}", f"Competency {k}", "", k, False, ts(300))
           for s in range(1, plan.schools + 1) for k in range(COMPETENCIES)))
    timed("proficiency_levels", ["id", "framework_id", "position", "label", "descriptor"],
          (((s - 1) * 4 + k, s, k, label, "") for s in range(1, plan.schools + 1)
           for k, label in enumerate(("Emerging", "Developing", "Proficient", "Extending"), start=1)))
    timed("class_frameworks", ["class_id", "framework_id"],
          ((c, plan.school_of_class(c)) for c in range(1, plan.classes + 1)))

    def when(n: int, seq: int) -> datetime:
        # the owner's items spread over ~200 days, newest last; the last ones within the past week
        return now - timedelta(days=2 * (ITEMS_PER_STUDENT - 1 - seq), hours=(n * 37) % 24, minutes=n % 60)

    def audience(n: int) -> str:
        h = (n * 2654435761) % 100
        return "private" if h < 40 else "class" if h < 75 else "family"

    def draft(n: int) -> bool:
        return (n * 40503) % 100 < 15

    goal_statuses = ("active", "active", "active", "active", "active", "achieved", "achieved", "achieved", "paused",
                     "dropped")
    artefact_kinds = ("note",) * 10 + ("file",) * 7 + ("link",) * 3

    def items():
        for n in range(plan.items):
            owner, seq, kind = plan.item(n)
            at = when(n, seq)
            title, body = text.title(n), text.body(n)
            if kind == "artefact":
                a_kind = artefact_kinds[(n // 7) % 20]
                body = (body if a_kind == "note" else f"{body}\nIMG_{n}.jpg" if a_kind == "file"
                        else f"{body}\nhttps://example.org/{n}")
                yield (n + 1, "artefact", plan.student_id(owner), a_kind, title, body, audience(n), at.date(), at, at)
            elif kind == "reflection":
                yield (n + 1, "reflection", plan.student_id(owner), "draft" if draft(n) else "published", title,
                       body, audience(n), at.date(), at, at)
            else:
                yield (n + 1, "goal", plan.student_id(owner), goal_statuses[n % 10], title, f"{body}\nI will know",
                       audience(n), at.date(), at, at)

    timed("items", ["id", "type", "owner_id", "kind", "title", "body", "audience", "occurred_on", "created_at",
                    "updated_at"], items())

    def of_type(wanted):
        for n in range(plan.items):
            owner, seq, kind = plan.item(n)
            if kind == wanted:
                yield n, owner, seq, when(n, seq)

    def artefacts():
        for n, owner, _seq, at in of_type("artefact"):
            a_kind = artefact_kinds[(n // 7) % 20]
            common = (n + 1, plan.student_id(owner), a_kind, text.title(n), at.date(), audience(n), at, at, False)
            if a_kind == "note":
                yield (*common, "", text.body(n), None, None, None, None, None, 0, None, None, None, None)
            elif a_kind == "file":
                yield (*common, text.body(n), "", None, f"{n}.jpg", f"IMG_{n}.jpg", "image/jpeg", "image", 2_400_000,
                       4000, 3000, f"{n}-s.webp", f"{n}-l.webp")
            else:
                yield (*common, text.body(n), "", f"https://example.org/{n}", None, None, None, None, 0, None, None,
                       None, None)

    timed("artefacts", ["id", "owner_id", "kind", "title", "occurred_on", "audience", "created_at", "updated_at",
                        "reencoded", "description", "body", "url", "stored_name", "original_name", "content_type",
                        "media_kind", "size_bytes", "width", "height", "thumb_small", "thumb_large"], artefacts())
    timed("reflections", ["id", "owner_id", "title", "body", "audience", "status", "version", "created_at",
                          "updated_at", "published_at"],
          ((n + 1, plan.student_id(owner), text.title(n), text.body(n), audience(n),
            "draft" if draft(n) else "published", 1, at, at, None if draft(n) else at)
           for n, owner, _seq, at in of_type("reflection")))
    timed("goals", ["id", "owner_id", "title", "why", "success_criteria", "target_date", "status", "audience",
                    "achieved_at", "created_at", "updated_at"],
          ((n + 1, plan.student_id(owner), text.title(n), text.body(n), "I will know", today + timedelta(days=n % 90),
            goal_statuses[n % 10], audience(n), at if goal_statuses[n % 10] == "achieved" else None, at, at)
           for n, owner, _seq, at in of_type("goal")))
    timed("goal_steps", ["goal_id", "text", "position", "done", "done_at"],
          ((n + 1, f"Step {k}", k, k == 0, at if k == 0 else None)
           for n, _owner, _seq, at in of_type("goal") for k in range(2)))

    def item_of(owner: int, k: int) -> int:
        # one of the owner's artefacts or reflections (never a goal): seq with slot 0..8
        seq = (k * 10 + (k * 7) % 9) % ITEMS_PER_STUDENT
        return seq * plan.students + owner + 1

    comment_statuses = ("visible",) * 17 + ("pending", "reported", "removed")

    def comments():
        for i in range(plan.students):
            classmate = plan.student_id((i + 1) % plan.students if (i + 1) // CLASS_SIZE == i // CLASS_SIZE
                                        else i - i % CLASS_SIZE)
            for k in range(10):
                teacher = k % 2 == 0
                yield (item_of(i, k), plan.student_id(i),
                       plan.teacher_of_class(plan.class_of(i)) if teacher else classmate,
                       "teacher" if teacher else "peer", text.body(i * 10 + k)[:200], "", "", "", "",
                       comment_statuses[(i * 10 + k) % 20], ts(k * 9 + i % 5))

    timed("comments", ["item_id", "owner_id", "author_id", "kind", "body", "noticed", "wonder", "next_time",
                       "next_step", "status", "created_at"], comments())
    request_statuses = ("open", "open", "answered", "answered", "withdrawn")
    timed("feedback_requests", ["student_id", "item_id", "question", "status", "created_at", "closed_at"],
          ((plan.student_id(i), item_of(i, k + 3), "What could I improve?", request_statuses[(i + k) % 5], ts(k * 11),
            None if request_statuses[(i + k) % 5] == "open" else ts(k * 11 - 2))
           for i in range(plan.students) for k in range(3)))

    def ratings():
        for i in range(plan.students):
            school = plan.school_of_class(plan.class_of(i))
            for k in range(6):
                competency = (school - 1) * COMPETENCIES + (i + k) % COMPETENCIES + 1
                for source, rater in (("self", plan.student_id(i)), ("teacher", plan.teacher_of_class(plan.class_of(i)))):
                    yield (plan.student_id(i), competency, (school - 1) * 4 + 1 + (i + k) % 4, rater, source, "",
                           ts(k * 13))

    timed("competency_ratings", ["student_id", "competency_id", "level_id", "rated_by_id", "source", "reason",
                                 "created_at"], ratings())
    params = json.dumps({"title": "A note"})
    timed("notifications", ["user_id", "kind", "params", "link", "created_at", "read_at", "item_id"],
          ((plan.student_id(i), "feedback_received", params, f"/artefacts/{item_of(i, k)}", ts(k * 5),
            None if k < 2 else ts(k * 5 - 1), item_of(i, k)) for i in range(plan.students) for k in range(5)))


def build(url: str, plan: Plan, log) -> None:
    """Migrate, drop the loaded tables' secondary indexes and foreign keys, COPY everything, put them back."""
    from app.auth import hash_password

    settings = Settings(_env_file=None, database_url=url, secret_key="bench-" * 8)
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        tables = list(LOADED)
        indexes = connection.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [tables]).fetchall()
        foreign_keys = connection.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)", [tables]).fetchall()
        for name, _ in indexes:
            connection.execute(f"DROP INDEX {name}")
        for table, name, _ in foreign_keys:
            connection.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        started = time.perf_counter()
        with connection.transaction():
            load(connection, plan, hash_password(PASSWORD), log)
        log(f"loaded in {time.perf_counter() - started:.0f} s")
        connection.execute("SET maintenance_work_mem = '1GB'")
        started = time.perf_counter()
        for name, definition in indexes:
            step = time.perf_counter()
            connection.execute(definition)
            log(f"  {name}: {time.perf_counter() - step:.1f} s")
        log(f"indexes in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        for table, name, definition in foreign_keys:
            connection.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        log(f"foreign keys checked in {time.perf_counter() - started:.0f} s")
        for table in tables:
            if connection.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                                  "AND table_name = %s AND column_name = 'id'", [table]).fetchone():
                connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                   f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")
        started = time.perf_counter()
        connection.execute("VACUUM (ANALYZE)")
        log(f"vacuum analyze in {time.perf_counter() - started:.0f} s")
        size = connection.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        log(f"database size {size}")


# --- measuring --------------------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


SEARCHES = ("photosynthesis", "cafe", "café", "poem", "exp", "river volcano", "ecosystem", "élan", "kindness",
            "draft", "bibliotheque", "teamwork poster", "climate", "chapter", "musee")


def measure(url: str, plan: Plan, requests: int, users: int, explain_path: Path | None, log) -> dict[str, dict]:
    """p50/p95/max of each page over `requests` GETs spread over `users` signed-in users of each role."""
    import tempfile

    from fastapi.testclient import TestClient

    from app.main import create_app

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, database_url=url, data_dir=Path(folder),
                            upload_dir=Path(folder) / "uploads", secret_key="bench-" * 8,
                            base_url="http://testserver", job_runner="external")
        app = create_app(settings)
        students = rng.sample(range(plan.students), min(users, plan.students))
        classes = rng.sample(range(1, plan.classes + 1), min(users, plan.classes))
        guardians = rng.sample(range(plan.primary_guardians), min(users, plan.primary_guardians))
        pages: dict[str, list[tuple[str, str]]] = {
            "class overview": [(f"t{(c - 1) // 2}", f"/classes/{c}/overview") for c in classes],
            "student home": [(f"s{i}", "/student") for i in students],
            "search": [(f"s{i}", f"/student?q={SEARCHES[k % len(SEARCHES)]}") for k, i in enumerate(students)],
            # guardians of primary index < students // 5 have two children
            "family home": [(f"g{g}", "/family") for g in guardians],
        }
        results: dict[str, dict] = {}
        explains: dict[str, list[tuple[float, str, str]]] = {}
        with TestClient(app, base_url="http://testserver") as anonymous:
            clients: dict[str, TestClient] = {}

            def client_for(username: str) -> TestClient:
                if username not in clients:
                    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
                    response = client.post("/login", data={"identifier": username, "password": PASSWORD})
                    assert response.status_code == 303, (username, response.status_code)
                    clients[username] = client
                return clients[username]

            del anonymous
            started = time.perf_counter()
            for targets in pages.values():
                for username, _ in targets:
                    client_for(username)
            log(f"signed in {len(clients)} users in {time.perf_counter() - started:.0f} s")
            for name, targets in pages.items():
                for username, path in targets:  # warm-up: each user once (first touch of their rows)
                    assert client_for(username).get(path).status_code == 200, (username, path)
                times, in_database = [], []
                for k in range(requests):
                    username, path = targets[k % len(targets)]
                    with _DatabaseClock(app.state.engine) as clock:
                        started = time.perf_counter()
                        response = client_for(username).get(path)
                        times.append((time.perf_counter() - started) * 1000)
                    in_database.append(clock.ms)
                    assert response.status_code == 200, (username, path, response.status_code)
                results[name] = {"p50": statistics.median(times), "p95": _percentile(times, 95),
                                 "p99": _percentile(times, 99), "max": max(times), "n": len(times),
                                 "db50": statistics.median(in_database), "db95": _percentile(in_database, 95)}
                r = results[name]
                log(f"{name:15s} p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  p99 {r['p99']:6.1f} ms  "
                    f"max {r['max']:6.1f} ms  (of which in the database: p50 {r['db50']:5.1f} ms, "
                    f"p95 {r['db95']:5.1f} ms; {len(times)} requests, {len(targets)} users)")
                if explain_path is not None:
                    explains[name] = _explain_page(app.state.engine, client_for(targets[0][0]), targets[0][1])
            for client in clients.values():
                client.close()
        app.state.engine.dispose()
    if explain_path is not None:
        _write_explains(explain_path, plan, results, explains, pages)
    return results


class _DatabaseClock:
    """Wall time spent inside the driver's execute calls (query and fetch of results) while active."""

    def __init__(self, engine):
        self.engine, self.ms, self._started = engine, 0.0, 0.0

    def _before(self, *_args) -> None:
        self._started = time.perf_counter()

    def _after(self, *_args) -> None:
        self.ms += (time.perf_counter() - self._started) * 1000

    def __enter__(self) -> "_DatabaseClock":
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)


def _explain_page(engine, client, path: str) -> list[tuple[float, str, str]]:
    """Every statement one GET of `path` runs, each with EXPLAIN (ANALYZE, BUFFERS) and its execution time."""
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_args) -> None:
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    found = []
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters or None)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            ms = float(plan.rsplit("Execution Time:", 1)[1].split("ms")[0]) if "Execution Time:" in plan else 0.0
            found.append((ms, statement, plan))
        connection.rollback()
    return found


def _write_explains(path: Path, plan: Plan, results, explains, pages) -> None:
    lines = [f"# EXPLAIN (ANALYZE, BUFFERS) at scale ({plan.students:,} students, {plan.items:,} items)", "",
             "Written by bench/scale.py: every SELECT one request runs, slowest first, for one user of each page. "
             "Shared-buffer hits and reads show what came from cache.", ""]
    for name, found in explains.items():
        r = results[name]
        lines += [f"## {name}: `{pages[name][0][1]}`", "",
                  f"p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms over {r['n']} requests (in the database: p50 "
                  f"{r.get('db50', 0):.1f} ms, p95 {r.get('db95', 0):.1f} ms). "
                  f"{len(found)} SELECTs, {sum(ms for ms, _, _ in found):.1f} ms in the database in all.", ""]
        for ms, statement, query_plan in sorted(found, key=lambda f: -f[0]):
            lines += [f"### {ms:.2f} ms", "", "```sql", statement.strip(), "```", "", "```", query_plan, "```", ""]
    path.write_text("\n".join(lines))


# --- running ----------------------------------------------------------------------------------


def _throwaway_cluster():
    from tests.pg_server import ThrowawayPostgres

    server = ThrowawayPostgres()
    server.start()
    # 2 GB of shared buffers (of 23 GB on the machine measured) and parallel index builds: the settings a district
    # server would have, not the test suite's defaults. shared_buffers only changes on restart.
    with psycopg.connect(host="127.0.0.1", port=server.port, user="folio", dbname="postgres", autocommit=True) as c:
        for setting, value in (("shared_buffers", "2GB"), ("maintenance_work_mem", "1GB"), ("work_mem", "16MB"),
                               ("effective_cache_size", "12GB"), ("max_wal_size", "8GB"),
                               ("random_page_cost", "1.1")):
            c.execute(f"ALTER SYSTEM SET {setting} = '{value}'")
    result = server._run([server._tool("pg_ctl"), "-D", str(server.data_dir), "-w", "-m", "fast", "restart",
                          "-l", str(server.log_file)], timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"could not restart the bench cluster: {result.stderr or result.stdout}")
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--url", help="a PostgreSQL database to use (default: a throwaway cluster)")
    parser.add_argument("--skip-build", action="store_true", help="measure the data already in --url")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page")
    parser.add_argument("--users", type=int, default=60, help="different users per page")
    parser.add_argument("--explain", type=Path, default=Path(__file__).parent / "scale_explain.md")
    args = parser.parse_args()
    plan = Plan(args.students)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.0f} s] {message}", flush=True)

    server = None
    url = args.url
    if url is None:
        server = _throwaway_cluster()
        url = server.create_database("folio_scale")
        log(f"throwaway cluster at {url}")
    try:
        if not args.skip_build:
            log(f"building {plan.students:,} students, {plan.teachers:,} teachers, "
                f"{plan.primary_guardians + plan.second_guardians:,} guardians, {plan.classes:,} classes, "
                f"{plan.items:,} items")
            build(url, plan, log)
        else:
            engine = make_engine(Settings(_env_file=None, database_url=url, secret_key="bench-" * 8))
            upgrade(engine)  # indexes added since the build
            engine.dispose()
        measure(url, plan, args.requests, args.users, args.explain, log)
        log(f"done; EXPLAIN output in {args.explain}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()

"""Load test: many signed-in students, a teacher and a family using a running Folio at once, for a fixed time.

Each virtual user runs a closed loop (no think time unless --think) over a realistic mix: students open their
home, filter and search their timeline, open item pages and upload small photos; teacher sessions open the class
overview and the inbox; family sessions open the family feed. A probe asks /healthz every half second. Reported per endpoint and
overall: requests/s, p50/p95/p99 latency, errors (any unexpected status, a redirect to sign-in included, or
transport error) and timeouts.

Against a running server (loopback only), signing in through /login with the demo accounts:
    .venv/bin/python bench/load.py --base-url http://127.0.0.1:8000 --users 64 --seconds 30
(its uploads stay in the demo students' portfolios; --no-uploads leaves them out of the mix).
Or serving Folio itself on a fresh database, seeded through the services (sessions started directly):
    .venv/bin/python bench/load.py --serve sqlite --users 64 --seconds 20
    .venv/bin/python bench/load.py --serve postgresql+psycopg://user@127.0.0.1/empty_db --users 64
"""

from __future__ import annotations

import argparse
import asyncio
import io
import ipaddress
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MAX_USERS = 1024
MAX_SECONDS = 600
SESSION_COOKIE = "folio_session"  # app.auth.SESSION_COOKIE, repeated so a bare run needs no app import
DEMO_PASSWORD = "folio-demo"
DEMO_STUDENTS = ("student", "noah", "amara", "liam", "sofia", "ethan", "zara", "oliver",
                 "jonah", "aisha", "mateo", "hana", "lucas", "isla", "kai", "priya")
SEARCHES = ("volcano", "water", "reading", "science", "art", "fractions", "my", "project")
KINDS = ("", "file", "note", "link", "reflection", "goal")
ITEM_LINK = re.compile(r'href="(/(?:artefacts|reflections|goals)/\d+)"')
CLASS_LINK = re.compile(r'href="/classes/(\d+)"')


# --- where ----------------------------------------------------------------------------------------------------------

def is_loopback_host(host: str | None) -> bool:
    """True for localhost and loopback IP literals only (a name other than localhost is not resolved, so refused)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str) -> str:
    """The base URL without a trailing slash; ValueError unless it is http(s) on a loopback address."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not is_loopback_host(parts.hostname):
        raise ValueError(f"refusing {base_url!r}: the load test only runs against a loopback address")
    return base_url.rstrip("/")


# --- who ------------------------------------------------------------------------------------------------------------

@dataclass
class Account:
    """One virtual user: a role and either a session token or a username and password to sign in with."""

    role: str  # student, teacher or family
    token: str | None = None
    username: str | None = None
    password: str | None = None


@dataclass
class Population:
    students: list[Account]
    teachers: list[Account]
    families: list[Account]

    @property
    def everyone(self) -> list[Account]:
        return self.students + self.teachers + self.families


def demo_population(users: int) -> Population:
    """`users` student sessions over the demo's 16 students, and users // 16 (at least one) teacher and family ones."""
    others = max(1, users // 16)
    students = [Account("student", username=DEMO_STUDENTS[i % len(DEMO_STUDENTS)], password=DEMO_PASSWORD)
                for i in range(users)]
    return Population(students, [Account("teacher", username="teacher", password=DEMO_PASSWORD)] * others,
                      [Account("family", username="family", password=DEMO_PASSWORD)] * others)


# --- what -----------------------------------------------------------------------------------------------------------

@dataclass
class EndpointStats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    timeouts: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.timeouts

    def add(self, other: "EndpointStats") -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.timeouts += other.timeouts
        for key, count in other.statuses.items():
            self.statuses[key] = self.statuses.get(key, 0) + count


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


@dataclass
class LoadStats:
    seconds: float
    users: int
    endpoints: dict[str, EndpointStats]

    @property
    def overall(self) -> EndpointStats:
        total = EndpointStats()
        for name, stats in self.endpoints.items():
            if name != "healthz":
                total.add(stats)
        return total

    def healthz_ok(self) -> int:
        return self.endpoints.get("healthz", EndpointStats()).statuses.get("200", 0)

    def rows(self) -> list[tuple[str, EndpointStats]]:
        return sorted(self.endpoints.items()) + [("overall (without healthz)", self.overall)]

    def table(self) -> str:
        lines = [f"{self.users} users for {self.seconds:.1f} s",
                 f"{'endpoint':<28}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
                 f"{'errors':>8}{'timeouts':>9}"]
        for name, stats in self.rows():
            lat = stats.latencies
            lines.append(f"{name:<28}{stats.requests:>9}{stats.requests / self.seconds:>8.1f}"
                         f"{percentile(lat, .50) * 1000:>9.0f}{percentile(lat, .95) * 1000:>9.0f}"
                         f"{percentile(lat, .99) * 1000:>9.0f}{stats.errors:>8}{stats.timeouts:>9}")
        failures = {name: s.statuses for name, s in self.endpoints.items() if s.errors}
        if failures:
            lines.append(f"errors by status: {failures}")
        return "\n".join(lines)


def small_jpeg(seed: int) -> bytes:
    """A 320x240 photo-like JPEG (a few KB), different for each seed."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (320, 240), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(320), rng.randrange(240)
        draw.ellipse((x, y, x + rng.randrange(20, 120), y + rng.randrange(20, 90)),
                     fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


class Recorder:
    def __init__(self) -> None:
        self.endpoints: dict[str, EndpointStats] = {}

    async def request(self, client: httpx.AsyncClient, endpoint: str, method: str, url: str,
                      ok: tuple[int, ...] = (200,), **kwargs) -> httpx.Response | None:
        """One request, timed; any answer but `ok` is an error (a redirect to the sign-in page included)."""
        stats = self.endpoints.setdefault(endpoint, EndpointStats())
        began = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            stats.timeouts += 1
            stats.statuses["timeout"] = stats.statuses.get("timeout", 0) + 1
            return None
        except httpx.HTTPError as exc:
            stats.latencies.append(time.perf_counter() - began)
            stats.errors += 1
            stats.statuses[type(exc).__name__] = stats.statuses.get(type(exc).__name__, 0) + 1
            return None
        stats.latencies.append(time.perf_counter() - began)
        key = str(response.status_code)
        stats.statuses[key] = stats.statuses.get(key, 0) + 1
        if response.status_code not in ok:
            stats.errors += 1
        return response


async def _sign_in(client: httpx.AsyncClient, account: Account, recorder: Recorder) -> bool:
    if account.token:
        client.cookies.set(SESSION_COOKIE, account.token)
        return True
    response = await recorder.request(client, "login", "POST", "/login", ok=(303,),
                                      data={"identifier": account.username, "password": account.password})
    return response is not None and response.status_code == 303 and SESSION_COOKIE in client.cookies


async def _think(rng: random.Random, think: float) -> None:
    """A person reads the page before the next click: a pause of 0.5-1.5x `think` seconds (none when 0)."""
    if think > 0:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


async def _student(client: httpx.AsyncClient, recorder: Recorder, rng: random.Random, deadline: float,
                   uploads: bool, think: float = 0.0) -> None:
    items: list[str] = []

    def remember(response: httpx.Response | None) -> None:
        if response is not None and response.status_code == 200:
            for link in ITEM_LINK.findall(response.text)[:20]:
                if link not in items:
                    items.append(link)

    await _think(rng, think)  # a class signing in within a few seconds, not in the same millisecond
    remember(await recorder.request(client, "student home", "GET", "/student"))
    photo = small_jpeg(rng.randrange(1 << 30))
    while time.monotonic() < deadline:
        await _think(rng, think)
        roll = rng.random()
        if roll < 0.30:
            remember(await recorder.request(client, "student home", "GET", "/student"))
        elif roll < 0.55:
            params = {"q": rng.choice(SEARCHES)} if rng.random() < 0.5 else {}
            params["kind"] = rng.choice(KINDS)
            remember(await recorder.request(client, "timeline filter/search", "GET", "/student", params=params))
        elif roll < 0.90 or not uploads:
            if items:
                await recorder.request(client, "item page", "GET", rng.choice(items))
            else:
                remember(await recorder.request(client, "student home", "GET", "/student"))
        else:
            response = await recorder.request(
                client, "photo upload", "POST", "/artefacts/upload", ok=(201,), headers={"Accept": "application/json"},
                data={"title": f"Photo {rng.randrange(10_000)}", "audience": "private"},
                files=[("files", ("photo.jpg", photo, "image/jpeg"))])
            if response is not None and response.status_code == 201:
                items.extend(created["url"] for created in response.json()["created"])


async def _teacher(client: httpx.AsyncClient, recorder: Recorder, rng: random.Random, deadline: float,
                   think: float = 0.0, opens_class: bool = True) -> None:
    await _think(rng, think)
    home = await recorder.request(client, "teacher home", "GET", "/teacher")
    class_ids = CLASS_LINK.findall(home.text) if home is not None else []
    step = 0
    while time.monotonic() < deadline:
        await _think(rng, think)
        # Half the teachers open a class first, the other half their inbox, then each mixes: even a short run on a
        # busy machine asks for every kind of page.
        step += 1
        if class_ids and ((step == 1 and opens_class) or (step > 1 and rng.random() < 0.6)):
            await recorder.request(client, "class overview", "GET", f"/classes/{rng.choice(class_ids)}/overview")
        else:
            await recorder.request(client, "inbox", "GET", "/inbox")


async def _family(client: httpx.AsyncClient, recorder: Recorder, rng: random.Random, deadline: float,
                  think: float = 0.0) -> None:
    while time.monotonic() < deadline:
        await _think(rng, think)
        await recorder.request(client, "family feed", "GET", "/family")


async def _healthz(client: httpx.AsyncClient, recorder: Recorder, deadline: float) -> None:
    while time.monotonic() < deadline:
        await recorder.request(client, "healthz", "GET", "/healthz")
        await asyncio.sleep(0.5)


async def run_load_async(*, base_url: str, population: Population, seconds: float, timeout: float = 10.0,
                         uploads: bool = True, seed: int = 1, think: float = 0.0) -> LoadStats:
    """Sign everyone in, then run the mix for `seconds`; returns the figures (sign-in requests are not counted)."""
    base_url = check_base_url(base_url)
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be within (0, {MAX_SECONDS}]")
    if not 0 < len(population.everyone) <= MAX_USERS + 2 * (MAX_USERS // 16):
        raise ValueError(f"between 1 and {MAX_USERS} users")
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits, follow_redirects=False)
               for _ in population.everyone]
    probe = httpx.AsyncClient(base_url=base_url, timeout=timeout)
    signing_in = Recorder()
    recorder = Recorder()
    try:
        signed = await asyncio.gather(*(_sign_in(c, a, signing_in)
                                        for c, a in zip(clients, population.everyone, strict=True)))
        if not all(signed):
            raise RuntimeError(f"{signed.count(False)} of {len(signed)} users could not sign in: "
                               f"{ {k: v.statuses for k, v in signing_in.endpoints.items()} }")
        began = time.monotonic()
        deadline = began + seconds
        rng = random.Random(seed)
        tasks = [_healthz(probe, recorder, deadline)]
        teachers = 0
        for client, account in zip(clients, population.everyone, strict=True):
            user_rng = random.Random(rng.randrange(1 << 30))
            if account.role == "student":
                tasks.append(_student(client, recorder, user_rng, deadline, uploads, think))
            elif account.role == "teacher":
                teachers += 1
                tasks.append(_teacher(client, recorder, user_rng, deadline, think, opens_class=teachers % 2 == 1))
            else:
                tasks.append(_family(client, recorder, user_rng, deadline, think))
        # Each loop stops at the deadline; a request in flight then ends within `timeout`.
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + timeout + 5)
        took = time.monotonic() - began
    finally:
        await asyncio.gather(*(c.aclose() for c in clients), probe.aclose())
    return LoadStats(seconds=took, users=len(population.everyone), endpoints=recorder.endpoints)


def run_load(**kwargs) -> LoadStats:
    """run_load_async in its own event loop (for scripts and tests)."""
    return asyncio.run(run_load_async(**kwargs))


# --- serving Folio ourselves ------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _check_database_url(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "postgresql" and url.host and not is_loopback_host(url.host):
        raise ValueError("refusing a PostgreSQL server that is not on a loopback address")
    return database_url


def seed(*, database_url: str, folder: Path, students: int) -> tuple["object", Population]:
    """A fresh school: one teacher of classes of 32, a guardian of the first two students, a few items each
    (some shared with the family); sessions started directly. Returns the settings and the population."""
    from argon2 import PasswordHasher
    from sqlmodel import Session

    import app.auth
    from app.auth import start_session
    from app.config import Settings
    from app.db import make_engine
    from app.migrate import upgrade
    from app.models import Audience, ClassRole, EnrolledVia, GuardianLink, Role, School, SchoolClass
    from app.services.accounts.accounts import create_user
    from app.services.classes.classes import enroll, new_join_code
    from app.models import ArtefactKind, ReflectionStatus
    from app.services.portfolio.artefacts import ArtefactInput, create_text_artefact
    from app.services.portfolio.reflections import ReflectionInput, create_reflection

    port = _free_port()
    settings = Settings(_env_file=None, database_url=_check_database_url(database_url), data_dir=folder / "data",
                        upload_dir=folder / "uploads", secret_key="load-test-" * 6, base_url=f"http://127.0.0.1:{port}",
                        port=port)
    engine = make_engine(settings)
    upgrade(engine)
    hasher = app.auth._hasher
    # Nobody signs in with a password here (sessions are started directly), so the cheapest argon2 will do.
    app.auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        with Session(engine, expire_on_commit=False) as session:
            school = School(name="Load test school")
            session.add(school)
            session.flush()
            tag = f"{port}"

            def person(role: Role, name: str):
                return create_user(session=session, school_id=school.id, role=role, username=f"{name}-{tag}",
                                   display_name=name.replace("-", " ").title(), password="load-test-password")

            teacher = person(Role.teacher, "teacher")
            guardian = person(Role.guardian, "family")
            pupils = [person(Role.student, f"student-{i}") for i in range(students)]
            for start in range(0, students, 32):
                school_class = SchoolClass(school_id=school.id, name=f"Class {start // 32 + 1}", year="2026–27",
                                           join_code=new_join_code(session=session))
                session.add(school_class)
                session.flush()
                enroll(session=session, school_class=school_class, user=teacher, role=ClassRole.teacher,
                       via=EnrolledVia.admin)
                for pupil in pupils[start:start + 32]:
                    enroll(session=session, school_class=school_class, user=pupil, role=ClassRole.student,
                           via=EnrolledVia.admin)
            for child in pupils[:2]:
                session.add(GuardianLink(guardian_id=guardian.id, student_id=child.id))
            session.commit()
            for i, pupil in enumerate(pupils):
                shared = Audience.family if i < 2 else Audience.private
                for title, body, audience in ((f"Volcano project {i}", "Water, rock and science", shared),
                                              (f"Reading log {i}", "Chapters read this week", Audience.class_)):
                    create_text_artefact(session=session, owner=pupil, kind=ArtefactKind.note, data=ArtefactInput(
                        title=title, body=body, audience=audience, occurred_on=date.today()))
                create_reflection(session=session, owner=pupil, data=ReflectionInput(
                    title=f"What I learned about fractions {i}", body="My project", audience=shared,
                    status=ReflectionStatus.published))
            session.commit()
            others = max(1, students // 16)

            def tokens(user, count: int, role: str) -> list[Account]:
                return [Account(role, token=start_session(session=session, user=user, user_agent="bench/load.py"))
                        for _ in range(count)]

            population = Population(
                [Account("student", token=start_session(session=session, user=p, user_agent="bench/load.py"))
                 for p in pupils],
                tokens(teacher, others, "teacher"), tokens(guardian, others, "family"))
            session.commit()
    finally:
        app.auth._hasher = hasher
        engine.dispose()
    return settings, population


@contextmanager
def serve_in_thread(settings) -> Iterator[str]:
    """The app served by uvicorn on settings.port in a thread of this process; yields its base URL."""
    import uvicorn

    from app.main import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=settings.port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_in_process(settings, workers: int = 1) -> Iterator[str]:
    """The app served by uvicorn in child processes (their own interpreters, so the generator does not share their
    GIL): `workers` of them, as `folio serve` does with FOLIO_WORKERS."""
    env = dict(os.environ)
    for name in ("database_url", "data_dir", "upload_dir", "secret_key", "base_url"):
        env[f"FOLIO_{name.upper()}"] = str(getattr(settings, name))
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host", "127.0.0.1",
         "--port", str(settings.port), "--log-level", "warning", "--workers", str(workers)], cwd=ROOT, env=env)
    base_url = f"http://127.0.0.1:{settings.port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=64, help=f"signed-in students (1-{MAX_USERS}); plus users//16 "
                        "teacher and family sessions (at least one each)")
    parser.add_argument("--seconds", type=float, default=30, help=f"how long the load runs (at most {MAX_SECONDS})")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="a running Folio (loopback only) "
                        "with the demo accounts")
    parser.add_argument("--serve", metavar="sqlite|postgresql-url", help="serve Folio ourselves on a fresh "
                        "database in a temporary folder (a PostgreSQL database should be empty)")
    parser.add_argument("--timeout", type=float, default=10, help="seconds before a request counts as a timeout")
    parser.add_argument("--no-uploads", action="store_true", help="leave photo uploads out of the mix")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a user reads a page before the next "
                        "click (0: a closed loop with no pause, a stress test)")
    parser.add_argument("--workers", type=int, default=1, help="server processes when serving Folio ourselves")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= MAX_USERS or not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"--users must be 1-{MAX_USERS} and --seconds at most {MAX_SECONDS}")
    try:
        check_base_url(args.base_url)
    except ValueError as exc:
        parser.error(str(exc))
    options = dict(seconds=args.seconds, timeout=args.timeout, uploads=not args.no_uploads, think=args.think)
    if not args.serve:
        stats = run_load(base_url=args.base_url, population=demo_population(args.users), **options)
    else:
        with tempfile.TemporaryDirectory(prefix="folio-load-") as folder:
            url = f"sqlite:///{Path(folder) / 'folio.db'}" if args.serve == "sqlite" else args.serve
            began = time.monotonic()
            settings, population = seed(database_url=url, folder=Path(folder), students=args.users)
            print(f"seeded {args.users} students in {time.monotonic() - began:.1f} s", file=sys.stderr)
            with serve_in_process(settings, workers=args.workers) as base_url:
                stats = run_load(base_url=base_url, population=population, **options)
    print(stats.table())
    return 1 if stats.overall.errors or stats.overall.timeouts else 0


if __name__ == "__main__":
    sys.exit(main())

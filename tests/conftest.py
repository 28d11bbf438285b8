"""Fixtures: every database test runs twice, on SQLite and on a real throwaway PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from tests.pg_server import PostgresUnavailable, ThrowawayPostgres
from tests.route_memo import share_route_parts
from tests.s3_server import S3Unavailable, ThrowawayS3
from tests.template_memo import share_compiled_templates

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_SECRET = "test-secret-key-that-is-long-enough-for-anything"

# Every test builds its own app and Jinja environment; what of them belongs to no one app (routes' dependency trees
# and fields, compiled templates) is built once per process instead (see the two modules).
share_route_parts()
share_compiled_templates()


def pytest_collection_modifyitems(items) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread for the
    rest of the session, and tests that call anyio.run themselves must not run after it starts.

    Among them, the longest (modules that set BROWSER_RUN_FIRST) first: with xdist they are then handed out
    while the other processes still have work, instead of being the last thing one process does alone."""
    def order(item) -> tuple[bool, bool]:
        browser = item.get_closest_marker("browser") is not None
        return browser, browser and not getattr(item.module, "BROWSER_RUN_FIRST", False)

    items.sort(key=order)


def unavailable(reason: str) -> None:
    """Locally, skip with the reason; in CI nothing may skip for lack of a server or browser."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must run, not skip)", pytrace=False)
    pytest.skip(reason)


# The S3 server's address once a test has asked for it (make_settings points s3:// storage URLs at it).
S3_ENDPOINT: dict[str, str] = {}


def make_settings(tmp_path: Path, database_url: str, **overrides) -> Settings:
    if str(overrides.get("storage_url", "")).startswith("s3://"):
        from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY

        overrides = dict(s3_endpoint_url=S3_ENDPOINT["url"], s3_region=REGION, s3_access_key_id=ACCESS_KEY,
                         s3_secret_access_key=SECRET_KEY) | overrides
    values = dict(
        database_url=database_url,
        data_dir=tmp_path / "data",
        upload_dir=tmp_path / "uploads",
        secret_key=TEST_SECRET,
        base_url="http://testserver",
        # Tests run jobs themselves (app.services.jobs.jobs.run_pending) so they are deterministic; the browser tests'
        # live server uses the in-process runner.
        job_runner="external",
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@contextmanager
def fast_hashing() -> Iterator[None]:
    """Real argon2id, at the lowest cost: production parameters would spend most of the suite hashing."""
    from argon2 import PasswordHasher

    import app.auth

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app.auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        app.auth._dummy_hash.cache_clear()
        yield
    app.auth._dummy_hash.cache_clear()


@pytest.fixture(autouse=True)
def fast_password_hashing():
    with fast_hashing():
        yield


# --- databases ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    server = ThrowawayPostgres()
    try:
        server.start()
    except PostgresUnavailable as exc:
        unavailable(f"PostgreSQL unavailable: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "folio.db"
    engine = make_engine(Settings(_env_file=None, database_url=f"sqlite:///{path}", secret_key=TEST_SECRET))
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: ThrowawayPostgres) -> str:
    """A PostgreSQL database migrated to head once; each test gets a copy (CREATE DATABASE ... TEMPLATE)."""
    url = postgres_server.create_database("folio_template")
    engine = make_engine(Settings(_env_file=None, database_url=url, secret_key=TEST_SECRET))
    upgrade(engine)
    engine.dispose()  # a template can't be copied while connected
    return "folio_template"


def _fresh_database(request, folder: Path) -> Iterator[str]:
    """A copy of the migrated template on the backend named by request.param, dropped afterwards."""
    if request.param == "sqlite":
        path = folder / "folio.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: ThrowawayPostgres = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield server.create_database(name, template=template)
    server.drop_database(name)


class ReusedPostgres:
    """One migrated PostgreSQL database that a process's tests take turns on, emptied after each.

    Copying the template for every test (CREATE DATABASE, then DROP) cost a checkpoint and ~0.2-0.3 s of the
    server's time per test; emptying every table costs ~2 ms. A test finds what a fresh copy has: empty tables
    (the template holds no rows but alembic_version, which is kept), sequences at their start (ids restart only
    between tests, never within one), no connections of anyone else's. A test that changes more than rows (a
    database setting, the schema) leaves a different fingerprint, and the database is then replaced by a new copy.
    """

    # Before/after a test: the schema's objects, triggers and functions, per-database settings, the revision.
    FINGERPRINT = """
        SELECT (SELECT string_agg(c.relname || ':' || c.relkind::text || ':' || c.relnatts, ',' ORDER BY c.relname)
                  FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace),
               (SELECT count(*) FROM pg_trigger),
               (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace),
               (SELECT count(*) FROM pg_db_role_setting
                 WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())),
               (SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version)"""

    def __init__(self, server: ThrowawayPostgres, template: str) -> None:
        self.server, self.template = server, template
        self.name: str | None = None
        self.url = ""
        self.fingerprint: tuple = ()
        self.empty_all = ""

    def _connect(self):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.server.port, user=self.server.user, dbname=self.name,
                               autocommit=True, connect_timeout=10)

    def _create(self) -> None:
        self.name = f"t_{uuid.uuid4().hex[:12]}"
        self.url = self.server.create_database(self.name, template=self.template)
        with self._connect() as connection:
            tables = connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
                "ORDER BY tablename").fetchall()
            for (table,) in tables:
                rows = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                # A migration that seeded rows would need them back after each test; none does yet.
                assert rows == 0, f"the migrated template has {rows} rows in {table}: empty_all would remove them"
            self.fingerprint = connection.execute(self.FINGERPRINT).fetchone()
        # As the replication role, DELETE fires no triggers and checks no foreign keys (so any order will do, and
        # the audit log's append-only trigger lets it go); TRUNCATE of every table would take ~50 times longer.
        self.empty_all = "".join(
            ["SET lock_timeout = '20s'; SET session_replication_role = replica;"]
            + [f'DELETE FROM "{table}";' for (table,) in tables]
            + ["RESET session_replication_role;",
               "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)"
               " FROM pg_sequences WHERE schemaname = 'public';"])

    def take(self) -> str:
        if self.name is None:
            self._create()
        return self.url

    def give_back(self) -> None:
        """Empty it for the next test, or replace it when the test changed more than rows (or emptying failed:
        the next test must not find this one's rows)."""
        emptied = False
        try:
            with self._connect() as connection:
                # What the test left open (an engine not disposed, a thread still working) goes, as DROP ... FORCE
                # did.
                connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                if connection.execute(self.FINGERPRINT).fetchone() == self.fingerprint:
                    connection.execute(self.empty_all)
                    emptied = True
        finally:
            if not emptied:
                self.server.drop_database(self.name)
                self.name = None


@pytest.fixture(scope="session")
def reused_postgres(postgres_server: ThrowawayPostgres, postgres_template: str) -> Iterator[ReusedPostgres]:
    database = ReusedPostgres(postgres_server, postgres_template)
    yield database
    if database.name is not None:
        postgres_server.drop_database(database.name)


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test, on each backend: on SQLite a copy of the template file, on
    PostgreSQL the process's reused database, emptied afterwards (see ReusedPostgres)."""
    if request.param == "sqlite":
        yield from _fresh_database(request, tmp_path)
        return
    database: ReusedPostgres = request.getfixturevalue("reused_postgres")
    yield database.take()
    database.give_back()


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(request, tmp_path_factory) -> Iterator[str]:
    """A fresh, migrated database shared by one module's tests, on each backend (for a world built once)."""
    yield from _fresh_database(request, tmp_path_factory.mktemp("module"))


# --- file storage ------------------------------------------------------------------------------

STORAGES = ["local", pytest.param("s3", marks=pytest.mark.s3)]


def _parametrizes(metafunc, name: str) -> bool:
    return any(name in marker.args[0] for marker in metafunc.definition.iter_markers("parametrize")
               if marker.args and isinstance(marker.args[0], (str, list, tuple)))


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc) -> None:
    """Tests marked `storage` (those that keep, serve or delete files) run on each file store: the local folder
    and an S3 API server. Others get the local folder only, which keeps the suite's time down.

    The two axes are covered, not their product: local files on both databases, S3 on SQLite. Which database
    holds the rows doesn't change what reaches the file store; a test marked `storage(both_databases=True)`
    (several hosts sharing PostgreSQL and S3, say) still runs S3 on PostgreSQL too."""
    marker = metafunc.definition.get_closest_marker("storage")
    if "storage_url" not in metafunc.fixturenames or marker is None:
        return
    if (marker.kwargs.get("both_databases") or "database_url" not in metafunc.fixturenames
            or _parametrizes(metafunc, "database_url")):
        metafunc.parametrize("storage_url", STORAGES, indirect=True)
        return
    postgres = pytest.mark.postgres
    combinations = [pytest.param("sqlite", "local", id="sqlite-local"),
                    pytest.param("postgresql", "local", marks=postgres, id="postgresql-local"),
                    pytest.param("sqlite", "s3", marks=pytest.mark.s3, id="sqlite-s3")]
    # As a mark, not a call: the database fixture's own parameters then give way to it, as they do to a test's
    # own @parametrize (and this hook must run before the marks are read: tryfirst).
    metafunc.definition.add_marker(
        pytest.mark.parametrize(["database_url", "storage_url"], combinations, indirect=True))


@pytest.fixture(scope="session")
def s3_server() -> Iterator[ThrowawayS3]:
    server = ThrowawayS3()
    try:
        server.start()
    except S3Unavailable as exc:
        unavailable(f"S3 server unavailable: {exc}")
    S3_ENDPOINT["url"] = server.endpoint_url
    yield server
    server.stop()


@pytest.fixture
def storage_url(request) -> str:
    """FOLIO_STORAGE_URL for one test: "" (the upload folder) or an empty bucket of its own on the S3 server."""
    if getattr(request, "param", "local") == "local":
        return ""
    server: ThrowawayS3 = request.getfixturevalue("s3_server")
    bucket = f"folio-{uuid.uuid4().hex[:16]}"
    server.create_bucket(bucket)
    return f"s3://{bucket}/school"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, storage_url: str) -> Settings:
    return make_settings(tmp_path, database_url, storage_url=storage_url)


@pytest.fixture
def app(settings: Settings):
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def new_client(app):
    """Another browser on the same app (a second user, a second tab)."""
    clients: list[TestClient] = []

    def make() -> TestClient:
        test_client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        test_client.close()


@pytest.fixture
def client_from(app, tmp_path: Path, database_url: str, storage_url: str):
    """A browser at a given network address (`client_from("203.0.113.5")`); with setting overrides, on an app
    with those settings over the same database (one app per set of overrides)."""
    clients: list[TestClient] = []
    apps: dict[tuple, object] = {}

    def make(address: str, **overrides) -> TestClient:
        application = app
        if overrides:
            key = tuple(sorted(overrides.items()))
            if key not in apps:
                apps[key] = create_app(make_settings(tmp_path, database_url, storage_url=storage_url, **overrides))
            application = apps[key]
        test_client = TestClient(application, base_url="http://testserver", follow_redirects=False,
                                 client=(address, 50000))
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        test_client.close()
    for application in apps.values():
        application.state.engine.dispose()


@pytest.fixture
def session(app) -> Iterator[Session]:
    with Session(app.state.engine, expire_on_commit=False) as db_session:
        yield db_session


# --- query counting ----------------------------------------------------------------------------


class QueryCounter:
    """Counts the SQL statements an engine runs while active."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, _conn, _cursor, statement, *_args) -> None:
        self.statements.append(statement)

    def __enter__(self) -> "QueryCounter":
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    return lambda: QueryCounter(app.state.engine)

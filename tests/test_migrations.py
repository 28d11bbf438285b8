"""Migrations build the whole schema on an empty database, and match the models exactly."""

import pytest

from sqlalchemy import inspect
from sqlmodel import SQLModel

from app.config import Settings
from app.db import make_engine
from app.migrate import downgrade, pending_changes, upgrade
from tests.conftest import TEST_SECRET


def _empty_database(request, tmp_path) -> str:
    backend = request.node.callspec.params["backend"]
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"empty_{tmp_path.name[-20:].lower().replace('-', '_')}")



@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_upgrade_empty_database_to_head_with_no_pending_diff(request, tmp_path, backend):
    engine = make_engine(Settings(_env_file=None, database_url=_empty_database(request, tmp_path), secret_key=TEST_SECRET))
    try:
        assert inspect(engine).get_table_names() == []
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        assert pending_changes(engine) == []
        downgrade(engine, "base")  # downgrades work too
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert pending_changes(engine) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_throttle_scopes_keep_recent_failures_for_what_they_were(request, tmp_path, backend):
    import hashlib

    from sqlalchemy import text

    engine = make_engine(Settings(_env_file=None, database_url=_empty_database(request, tmp_path), secret_key=TEST_SECRET))
    try:
        upgrade(engine, "7293a4fd835b")
        digest = lambda value: hashlib.sha256(value.encode()).hexdigest()  # noqa: E731
        with engine.begin() as connection:
            insert = text("INSERT INTO login_failures (account_key, address, created_at) VALUES (:k, :a, CURRENT_TIMESTAMP)")
            connection.execute(insert, {"k": digest("maya"), "a": "203.0.113.5"})
            connection.execute(insert, {"k": digest("invite:203.0.113.5"), "a": "203.0.113.5"})
        upgrade(engine, "i10_throttle_scopes")
        with engine.connect() as connection:
            rows = set(connection.execute(text("SELECT scope, account_key FROM login_failures")).all())
        assert rows == {("sign-in", digest("maya")), ("invitation-code", None)}
        downgrade(engine, "7293a4fd835b")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT account_key FROM login_failures")).scalars().all() == [digest("maya")]
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_existing_enrolments_are_marked_by_what_the_database_shows(request, tmp_path, backend):
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa
    from sqlmodel.sql.sqltypes import UTCDateTime

    engine = make_engine(Settings(_env_file=None, database_url=_empty_database(request, tmp_path), secret_key=TEST_SECRET))
    try:
        upgrade(engine, "7293a4fd835b")  # before enrolments said how they were made
        t0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
        when = UTCDateTime()
        schools = sa.table("schools", sa.column("id"), sa.column("name"), sa.column("created_at", when))
        users = sa.table("users", *(sa.column(c) for c in ("id", "school_id", "role", "username", "display_name",
                                                              "password_hash", "is_active", "must_change_password")),
                         sa.column("created_at", when))
        classes = sa.table("classes", *(sa.column(c) for c in ("id", "school_id", "name", "year", "join_code", "archived")),
                           sa.column("created_at", when))
        enrollments = sa.table("enrollments", *(sa.column(c) for c in ("id", "class_id", "user_id", "role")),
                               sa.column("created_at", when))

        def person(user_id, role, created_at):
            return {"id": user_id, "school_id": 1, "role": role, "username": f"u{user_id}", "display_name": f"U{user_id}",
                    "password_hash": "x", "is_active": True, "must_change_password": False, "created_at": created_at}

        rows = [  # (enrolment id, class, user, role, when): what each should become
            (1, 1, 1, "teacher", t0 + timedelta(seconds=1), "class_creator"),
            (2, 1, 2, "student", t0 + timedelta(seconds=3), "teacher_created"),  # made with the account
            (3, 1, 3, "student", t0 + timedelta(seconds=5), "legacy"),  # an account a month older
            (4, 2, 4, "teacher", t0 + timedelta(hours=1, seconds=1), "class_creator"),
            (5, 2, 2, "student", t0 + timedelta(hours=2), "legacy"),  # a second class: join code, or taken
            (6, 1, 4, "teacher", t0 + timedelta(days=1), "legacy"),  # a teacher added later
        ]
        with engine.begin() as connection:
            connection.execute(schools.insert().values(id=1, name="Riverside", created_at=t0))
            connection.execute(users.insert(), [person(1, "teacher", t0 - timedelta(days=90)),
                                                person(2, "student", t0 + timedelta(seconds=2)),
                                                person(3, "student", t0 - timedelta(days=30)),
                                                person(4, "teacher", t0 - timedelta(days=90))])
            connection.execute(classes.insert(), [
                {"id": 1, "school_id": 1, "name": "A", "year": "2026", "join_code": "AAAAAA", "archived": False, "created_at": t0},
                {"id": 2, "school_id": 1, "name": "B", "year": "2026", "join_code": "BBBBBB", "archived": False,
                 "created_at": t0 + timedelta(hours=1)}])
            connection.execute(enrollments.insert(), [
                {"id": i, "class_id": c, "user_id": u, "role": r, "created_at": at} for i, c, u, r, at, _via in rows])
        upgrade(engine)
        with engine.connect() as connection:
            marked = dict(connection.execute(sa.text("SELECT id, enrolled_via FROM enrollments")).all())
        assert marked == {i: via for i, *_rest, via in rows}
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_search_migration_says_what_to_do_when_unaccent_cannot_be_created(request, tmp_path):
    """A role that may not create extensions gets a clear message (not accent-sensitive search on one database
    only); once someone allowed to has created the extension, the same role migrates."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    server = request.getfixturevalue("postgres_server")
    name = f"plain_{tmp_path.name[-20:].lower().replace('-', '_')}"
    url = server.create_database(name)
    role = f"r_{name}"
    admin = make_engine(Settings(_env_file=None, database_url=url, secret_key=TEST_SECRET))
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        connection.exec_driver_sql(f"GRANT CREATE ON SCHEMA public TO {role}")  # tables, but no extensions
    engine = make_engine(Settings(_env_file=None, database_url=str(make_url(url).set(username=role)),
                                  secret_key=TEST_SECRET))
    try:
        upgrade(engine, "i11_photo_print_copy")
        with pytest.raises(RuntimeError, match=r"needs PostgreSQL's `unaccent` extension.*CREATE EXTENSION unaccent"):
            upgrade(engine)
        with admin.begin() as connection:
            connection.exec_driver_sql("CREATE EXTENSION unaccent")
        upgrade(engine)
        assert pending_changes(engine) == []
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT folio_unaccent('Café Élan')")).scalar_one() == "Cafe Elan"
        downgrade(engine, "i11_photo_print_copy")
    finally:
        engine.dispose()
        admin.dispose()
        server.drop_database(name)
        with server._admin_connect() as connection:
            connection.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_credentials_signed_before_status_bits_keep_the_bit_their_document_names(request, tmp_path, backend):
    import sqlalchemy as sa

    engine = make_engine(Settings(_env_file=None, database_url=_empty_database(request, tmp_path), secret_key=TEST_SECRET))
    try:
        upgrade(engine, "i16_api_rate_window")  # when a credential's bit was its id
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO schools (id, name, created_at) VALUES (1, 'Riverside', CURRENT_TIMESTAMP)"))
            connection.execute(sa.text(
                "INSERT INTO users (id, school_id, role, username, display_name, password_hash, is_active, "
                "must_change_password, created_at) VALUES (1, 1, 'student', 'maya', 'Maya', 'x', true, false, "
                "CURRENT_TIMESTAMP)"))
            for credential_id in (7, 131_080):
                connection.execute(sa.text(
                    "INSERT INTO credentials (id, public_id, school_id, student_id, achievement_name, issued_at, "
                    "revoked_reason, document) VALUES (:id, :public_id, 1, 1, 'A badge', CURRENT_TIMESTAMP, '', '{}')"),
                    {"id": credential_id, "public_id": f"00000000-0000-0000-0000-{credential_id:012d}"})
        upgrade(engine)
        with engine.connect() as connection:
            bits = connection.execute(sa.text("SELECT id, status_list, status_index FROM credentials ORDER BY id")).all()
        assert [tuple(row) for row in bits] == [(7, 0, 7), (131_080, 1, 8)]
    finally:
        engine.dispose()

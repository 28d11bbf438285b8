"""The PostgreSQL database a test process's tests take turns on (tests/conftest.py: ReusedPostgres) comes back to
each test as a fresh copy of the template would: every table empty, ids from 1, no one else connected, its settings
and schema as migrated."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from app.config import Settings
from app.db import make_engine
from app.models import AuditEventKind
from app.services.accounts.audit import record
from tests.conftest import TEST_SECRET
from tests.factories import make_class, make_school, make_user

pytestmark = pytest.mark.postgres


def _engine(url: str):
    return make_engine(Settings(_env_file=None, database_url=url, secret_key=TEST_SECRET))


def _rows(engine) -> dict[str, int]:
    with engine.connect() as connection:
        tables = sa.inspect(connection).get_table_names()
        return {table: connection.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar() for table in tables}


def test_the_next_test_finds_every_table_empty_and_ids_from_the_start(reused_postgres):
    url = reused_postgres.take()
    engine = _engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            school = make_school(session)
            teacher = make_user(session, school)
            make_class(session, school, teachers=[teacher], students=[make_user(session, school)])
            # The audit log refuses DELETE (a trigger): emptying must get past it all the same.
            record(session=session, event=next(iter(AuditEventKind)), actor=teacher)
            session.commit()
        assert _rows(engine)["audit_events"] == 1
        # A connection left open inside a transaction, holding a lock the emptying needs, is let go.
        held = engine.connect()
        held.execute(sa.text("LOCK TABLE schools IN ACCESS EXCLUSIVE MODE"))
        reused_postgres.give_back()
        held.invalidate()  # the server has closed it

        assert reused_postgres.take() == url  # the same database, not a new copy
        engine.dispose()
        counts = _rows(engine)
        assert counts.pop("alembic_version") == 1  # still at head
        assert {table: count for table, count in counts.items() if count} == {}
        with Session(engine) as session:
            assert make_school(session).id == 1
            assert make_user(session, make_school(session)).id == 1
    finally:
        engine.dispose()
        reused_postgres.give_back()


def test_a_test_that_changes_more_than_rows_leaves_a_new_copy_for_the_next(reused_postgres):
    url = reused_postgres.take()
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            database = connection.exec_driver_sql("SELECT current_database()").scalar()
            connection.exec_driver_sql(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
            connection.exec_driver_sql("ALTER TABLE schools ADD COLUMN motto text")
    finally:
        engine.dispose()
    reused_postgres.give_back()

    fresh = reused_postgres.take()
    assert fresh != url
    engine = _engine(fresh)
    try:
        assert "motto" not in {column["name"] for column in sa.inspect(engine).get_columns("schools")}
        with Session(engine) as session:
            assert make_school(session).id == 1  # writes are allowed again
    finally:
        engine.dispose()
        reused_postgres.give_back()

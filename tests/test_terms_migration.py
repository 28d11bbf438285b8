"""The people-and-terms migration, on data: existing classes get terms made from their year and term words, and
accounts already switched off start counting their retention period."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.config import Settings
from app.db import make_engine
from app.migrate import downgrade, pending_changes, upgrade
from tests.conftest import TEST_SECRET
from tests.test_items_migration import _insert

BEFORE = "i12_framework_case_ids"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_existing_classes_get_their_terms(request, tmp_path, backend):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(
            f"terms_{tmp_path.name[-16:].lower().replace('-', '_')}")
    engine = make_engine(Settings(_env_file=None, database_url=url, secret_key=TEST_SECRET))
    try:
        upgrade(engine, BEFORE)
        with engine.begin() as connection:
            riverside, hillside = (_insert(connection, "schools", name=name) for name in ("Riverside", "Hillside"))
            for school, name, year, term, archived, code in (
                    (riverside, "Maple", "2026–27", None, False, "AAAAAA"),
                    (riverside, "Oak", "2026–27", None, False, "BBBBBB"),
                    (riverside, "Old Maple", "2025–26", None, True, "CCCCCC"),
                    (riverside, "Drama", "2026–27", "Fall", False, "DDDDDD"),
                    (hillside, "Maple", "2026–27", None, False, "EEEEEE")):
                _insert(connection, "classes", school_id=school, name=name, year=year, term=term, archived=archived,
                        join_code=code)
            _insert(connection, "users", school_id=riverside, role="student", username="gone", display_name="Gone",
                    is_active=False)
            _insert(connection, "users", school_id=riverside, role="student", username="here", display_name="Here",
                    is_active=True)
        upgrade(engine)
        assert pending_changes(engine) == []
        with engine.connect() as c:
            terms = {(school, name): (year, archived) for school, name, year, archived in c.execute(sa.text(
                "SELECT school_id, name, school_year, archived FROM school_terms")).all()}
            assert terms == {(riverside, "2026–27"): ("2026–27", False), (riverside, "2025–26"): ("2025–26", True),
                             (riverside, "2026–27 Fall"): ("2026–27", False), (hillside, "2026–27"): ("2026–27", False)}
            placed = dict(c.execute(sa.text(
                "SELECT c.join_code, t.name FROM classes c JOIN school_terms t ON t.id = c.term_id "
                "WHERE t.school_id = c.school_id")).all())
            assert placed == {"AAAAAA": "2026–27", "BBBBBB": "2026–27", "CCCCCC": "2025–26", "DDDDDD": "2026–27 Fall",
                              "EEEEEE": "2026–27"}
            counting = dict(c.execute(sa.text("SELECT username, deactivated_at IS NOT NULL FROM users")).all())
            assert counting == {"gone": True, "here": False}
        downgrade(engine, BEFORE)
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM classes")).scalar_one() == 5
        upgrade(engine)
        assert pending_changes(engine) == []
    finally:
        engine.dispose()

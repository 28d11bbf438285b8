"""The items migration moves real data: every reference follows its item, leftovers of deleted items go, and back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.config import Settings
from app.db import make_engine
from app.migrate import downgrade, pending_changes, upgrade
from tests.conftest import TEST_SECRET

BEFORE = "7293a4fd835b"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _filler(column: sa.Column):
    python_type = column.type.python_type if not isinstance(column.type, sa.Enum) else str
    if isinstance(column.type, sa.Enum):
        return column.type.enums[0]
    return {int: 0, str: "", bool: False, date: NOW.date(), datetime: NOW, dict: {}}.get(python_type, "")


def _insert(connection, table_name: str, **values) -> int | None:
    """Insert a row, filling every other NOT NULL column without a default the way an old row would have it."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    for column in table.columns:
        if column.name not in values and not column.nullable and column.server_default is None \
                and not (column.primary_key and column.name == "id"):
            values[column.name] = _filler(column)
    result = connection.execute(table.insert().values(**values))
    return result.inserted_primary_key[0] if table.primary_key.columns.keys() == ["id"] else None


def _old_world(connection) -> dict:
    """A school as the old schema kept it, overlapping ids across types and a comment on a deleted artefact."""
    school = _insert(connection, "schools", name="Riverside")
    maya = _insert(connection, "users", school_id=school, role="student", username="maya", display_name="Maya")
    teacher = _insert(connection, "users", school_id=school, role="teacher", username="teach", display_name="Ms T")
    framework = _insert(connection, "frameworks", school_id=school, name="Core")
    competency = _insert(connection, "competencies", framework_id=framework, code="C1", name="Communicating")
    ids = {}
    for title in ("Bridge photo", "Poem"):
        ids[title] = _insert(connection, "artefacts", owner_id=maya, kind="note", title=title, occurred_on=NOW.date(),
                             audience="family", created_at=NOW, updated_at=NOW)
        _insert(connection, "timeline_entries", owner_id=maya, item_type="artefact", item_id=ids[title], kind="note",
                title=title, body=f"{title} text", audience="family", occurred_on=NOW.date(), updated_at=NOW)
    ids["Reflection"] = _insert(connection, "reflections", owner_id=maya, title="What I learned", status="published",
                                audience="class", created_at=NOW, updated_at=NOW, version=1)
    _insert(connection, "timeline_entries", owner_id=maya, item_type="reflection", item_id=ids["Reflection"],
            kind="published", title="What I learned", audience="class", occurred_on=NOW.date(), updated_at=NOW)
    ids["Goal"] = _insert(connection, "goals", owner_id=maya, title="Read more", status="active", audience="family",
                          closing_reflection_id=ids["Reflection"], created_at=NOW, updated_at=NOW)
    _insert(connection, "timeline_entries", owner_id=maya, item_type="goal", item_id=ids["Goal"], kind="active",
            title="Read more", audience="family", occurred_on=NOW.date(), updated_at=NOW)
    assert ids["Bridge photo"] == ids["Reflection"] == ids["Goal"] == 1  # the old design's overlapping ids
    _insert(connection, "goal_steps", goal_id=ids["Goal"], text="Library visit", position=1)
    _insert(connection, "reflection_artefacts", reflection_id=ids["Reflection"], artefact_id=ids["Poem"])
    tag = _insert(connection, "tags", owner_id=maya, name="bridges")
    _insert(connection, "artefact_tags", artefact_id=ids["Bridge photo"], tag_id=tag)
    for kind, title in (("artefact", "Bridge photo"), ("reflection", "Reflection"), ("goal", "Goal")):
        _insert(connection, "comments", item_type=kind, item_id=ids[title], owner_id=maya, author_id=teacher,
                kind="teacher", body=f"About the {title}", status="visible", created_at=NOW)
    orphan = _insert(connection, "comments", item_type="artefact", item_id=99, owner_id=maya, author_id=teacher,
                     kind="teacher", body="About a deleted artefact", status="visible", created_at=NOW)
    _insert(connection, "comments", item_type="artefact", item_id=99, owner_id=maya, author_id=maya, parent_id=orphan,
            kind="student", body="A reply under it", status="visible", created_at=NOW)
    request = _insert(connection, "feedback_requests", student_id=maya, item_type="reflection", item_id=ids["Reflection"],
                      question="Is it clear?", status="open", created_at=NOW)
    _insert(connection, "feedback_recipients", request_id=request, user_id=teacher)
    stale = _insert(connection, "feedback_requests", student_id=maya, item_type="goal", item_id=77,
                    question="Gone", status="open", created_at=NOW)
    _insert(connection, "feedback_recipients", request_id=stale, user_id=teacher)
    _insert(connection, "item_approvals", item_type="goal", item_id=ids["Goal"], owner_id=maya, status="approved",
            requested_at=NOW)
    showcase = _insert(connection, "showcases", owner_id=maya, title="My term", audience="family", created_at=NOW,
                       updated_at=NOW, version=1)
    _insert(connection, "showcase_items", showcase_id=showcase, item_type="artefact", item_id=ids["Poem"], position=1)
    _insert(connection, "showcase_items", showcase_id=showcase, item_type="competency", item_id=competency, position=2)
    _insert(connection, "showcase_items", showcase_id=showcase, item_type="goal", item_id=55, position=3)
    return {"maya": maya, "competency": competency, "showcase": showcase}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_items_migration_moves_data_and_back(request, tmp_path, backend):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(f"items_{tmp_path.name[-16:].lower().replace('-', '_')}")
    engine = make_engine(Settings(_env_file=None, database_url=url, secret_key=TEST_SECRET))
    try:
        upgrade(engine, BEFORE)
        with engine.begin() as connection:
            world = _old_world(connection)
        upgrade(engine)
        assert pending_changes(engine) == []
        with engine.connect() as c:
            on = dict(c.execute(sa.text(
                "SELECT comments.body, items.title FROM comments JOIN items ON items.id = comments.item_id")).all())
            assert on == {"About the Bridge photo": "Bridge photo", "About the Reflection": "What I learned",
                          "About the Goal": "Read more"}  # the deleted artefact's comment and its reply are gone
            ids = dict(c.execute(sa.text("SELECT title, id FROM items")).all())
            assert len(set(ids.values())) == 4 and min(ids.values()) > 1  # unique across types, above the old ids
            assert c.execute(sa.text("SELECT id FROM artefacts WHERE title = 'Poem'")).scalar_one() == ids["Poem"]
            assert c.execute(sa.text("SELECT artefact_id FROM reflection_artefacts")).scalar_one() == ids["Poem"]
            assert c.execute(sa.text("SELECT reflection_id FROM reflection_artefacts")).scalar_one() == ids["What I learned"]
            assert c.execute(sa.text("SELECT closing_reflection_id FROM goals")).scalar_one() == ids["What I learned"]
            assert c.execute(sa.text("SELECT goal_id FROM goal_steps")).scalar_one() == ids["Read more"]
            assert c.execute(sa.text("SELECT artefact_id FROM artefact_tags")).scalar_one() == ids["Bridge photo"]
            assert c.execute(sa.text("SELECT item_id FROM feedback_requests")).all() == [(ids["What I learned"],)]
            assert c.execute(sa.text("SELECT count(*) FROM feedback_recipients")).scalar_one() == 1
            assert c.execute(sa.text("SELECT item_id FROM item_approvals")).scalar_one() == ids["Read more"]
            entries = c.execute(sa.text("SELECT item_type, item_id, competency_id FROM showcase_items ORDER BY position")).all()
            assert [tuple(e) for e in entries] == [("artefact", ids["Poem"], None), ("competency", None, world["competency"])]
            assert c.execute(sa.text("SELECT body FROM items WHERE title = 'Poem'")).scalar_one() == "Poem text"
        with engine.begin() as c:  # deleting an item takes everything that points at it, in the database
            c.execute(sa.text("DELETE FROM items WHERE id = :id"), {"id": ids["What I learned"]})
            assert c.execute(sa.text("SELECT count(*) FROM reflections")).scalar_one() == 0
            assert c.execute(sa.text("SELECT count(*) FROM feedback_requests")).scalar_one() == 0
            assert c.execute(sa.text("SELECT closing_reflection_id FROM goals")).scalar_one() is None
            newest = c.execute(sa.text(
                "INSERT INTO items (type, owner_id, kind, title, body, audience, occurred_on, created_at, updated_at) "
                "VALUES ('artefact', :o, 'note', 'n', '', 'private', :d, :t, :t) RETURNING id"),
                {"o": world["maya"], "d": NOW.date(), "t": NOW}).scalar_one()
            c.execute(sa.text("DELETE FROM items WHERE id = :id"), {"id": newest})
            again = c.execute(sa.text(
                "INSERT INTO items (type, owner_id, kind, title, body, audience, occurred_on, created_at, updated_at) "
                "VALUES ('artefact', :o, 'note', 'n', '', 'private', :d, :t, :t) RETURNING id"),
                {"o": world["maya"], "d": NOW.date(), "t": NOW}).scalar_one()
            assert again > newest  # ids are never handed out twice
            c.execute(sa.text("DELETE FROM items WHERE id = :id"), {"id": again})
        downgrade(engine, BEFORE)
        with engine.connect() as c:
            rows = c.execute(sa.text(
                "SELECT comments.body, timeline_entries.title FROM comments JOIN timeline_entries "
                "ON timeline_entries.item_type = comments.item_type AND timeline_entries.item_id = comments.item_id")).all()
            assert dict(rows) == {"About the Bridge photo": "Bridge photo", "About the Goal": "Read more"}
            assert c.execute(sa.text("SELECT item_id FROM showcase_items WHERE item_type = 'competency'")).scalar_one() \
                == world["competency"]
        upgrade(engine)
        assert pending_changes(engine) == []
    finally:
        engine.dispose()

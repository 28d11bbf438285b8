"""The recordings migration, on data: old recordings become private and lose what they had on their own."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.config import Settings
from app.db import make_engine
from app.migrate import downgrade, pending_changes, upgrade
from tests.conftest import TEST_SECRET
from tests.test_items_migration import NOW, _insert

BEFORE = "i10_items"


def _item(connection, table: str, owner: int, title: str, audience: str, **values) -> int:
    """An artefact, reflection or goal row with its `items` row, as the items design keeps them."""
    item_type = {"artefacts": "artefact", "reflections": "reflection"}[table]
    kind = values.get("status") or values.get("kind")
    item_id = _insert(connection, "items", type=item_type, owner_id=owner, kind=kind, title=title, body="",
                      audience=audience, occurred_on=NOW.date(), created_at=NOW, updated_at=NOW)
    extra = {"occurred_on": NOW.date()} if table == "artefacts" else {"version": 1}
    _insert(connection, table, id=item_id, owner_id=owner, title=title, audience=audience, created_at=NOW,
            updated_at=NOW, **extra, **values)
    return item_id


def _old_world(connection) -> dict:
    school = _insert(connection, "schools", name="Riverside")
    maya = _insert(connection, "users", school_id=school, role="student", username="maya", display_name="Maya")
    teacher = _insert(connection, "users", school_id=school, role="teacher", username="teach", display_name="Ms T")
    ids = {"maya": maya, "teacher": teacher}
    # A family draft's recording, which copied the family audience and waited for an approval of its own.
    ids["recording"] = _item(connection, "artefacts", maya, "Recording: Secret plans", "family", kind="file",
                             media_kind="audio", stored_name="a.wav")
    ids["draft"] = _item(connection, "reflections", maya, "Secret plans", "family", status="draft",
                         audio_artefact_id=ids["recording"])
    # A teacher's spoken feedback on a class note, which copied the class audience.
    ids["note"] = _item(connection, "artefacts", maya, "Lab notes", "class", kind="note")
    ids["feedback"] = _item(connection, "artefacts", maya, "Feedback from Ms T on “Lab notes”", "class", kind="file",
                            media_kind="audio", stored_name="b.wav")
    _insert(connection, "comments", item_id=ids["note"], owner_id=maya, author_id=teacher, kind="teacher",
            status="visible", audio_artefact_id=ids["feedback"], created_at=NOW)
    # Ordinary family evidence, linked to the draft beside its own recording.
    ids["photo"] = _item(connection, "artefacts", maya, "Bridge photo", "family", kind="file", media_kind="image",
                         stored_name="c.png")
    for artefact in ("recording", "photo"):
        _insert(connection, "reflection_artefacts", reflection_id=ids["draft"], artefact_id=ids[artefact])
    for item in ("recording", "photo"):
        _insert(connection, "item_approvals", item_id=ids[item], owner_id=maya, status="pending", requested_at=NOW)
        for user, kind in ((teacher, "item_waiting"), (maya, "item_returned")):
            _insert(connection, "notifications", user_id=user, item_id=ids[item], kind=kind, params={"title": item},
                    created_at=NOW)
    return ids


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_old_recordings_become_private_and_lose_their_own_approvals(request, tmp_path, backend):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(
            f"recordings_{tmp_path.name[-16:].lower().replace('-', '_')}")
    engine = make_engine(Settings(_env_file=None, database_url=url, secret_key=TEST_SECRET))
    try:
        upgrade(engine, BEFORE)
        with engine.begin() as connection:
            ids = _old_world(connection)
        upgrade(engine)
        assert pending_changes(engine) == []
        users = {ids["maya"]: "maya", ids["teacher"]: "teacher"}
        title_of = {item_id: name for name, item_id in ids.items() if name not in ("maya", "teacher")}
        with engine.connect() as c:
            expected = {"recording": "private", "note": "class", "feedback": "private", "photo": "family"}
            for table, rows in (("artefacts", expected), ("items", expected | {"draft": "family"})):
                audiences = {title_of[i]: a for i, a in c.execute(sa.text(f"SELECT id, audience FROM {table}")).all()}
                assert audiences == rows, table
            assert [title_of[i] for i, in c.execute(sa.text("SELECT item_id FROM item_approvals")).all()] == ["photo"]
            told = {(users[u], title_of[i]) for u, i in c.execute(sa.text(
                "SELECT user_id, item_id FROM notifications")).all()}
            assert told == {("maya", "recording"), ("teacher", "photo"), ("maya", "photo")}
            assert [title_of[a] for a, in c.execute(sa.text("SELECT artefact_id FROM reflection_artefacts")).all()] \
                == ["photo"]
            assert c.execute(sa.text("SELECT audio_artefact_id FROM reflections")).scalar_one() == ids["recording"]
        downgrade(engine, BEFORE)
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM artefacts")).scalar_one() == 4
        upgrade(engine)
        assert pending_changes(engine) == []
    finally:
        engine.dispose()

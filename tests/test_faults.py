"""A save that fails for a reason on Folio's side (database busy, disk full) never loses what was typed: the form comes
back with the text and a plain message (503 busy, 507 full), and nothing is half-saved."""

from __future__ import annotations

import errno
import re
import sqlite3
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from app.faults import fault_of, is_busy, is_disk_full
from app.models import Artefact, ArtefactKind, Audience, CheckIn, Goal, GoalStep, Reflection
from app.services.portfolio import uploads
from tests.factories import login, make_school, make_user, post_multipart

BUSY = "Folio is busy, your text is safe: try Save again in a moment."
FULL = "The school&#39;s server is out of space: tell your teacher; your text is still here."


# --- telling faults apart -----------------------------------------------------------------------


def wrapped(driver_error: Exception) -> OperationalError:
    return OperationalError("UPDATE ...", {}, driver_error)


class PgError(Exception):
    def __init__(self, sqlstate: str):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize("exc", [
    wrapped(sqlite3.OperationalError("database is locked")),
    wrapped(sqlite3.OperationalError("database table is locked")),
    wrapped(PgError("55P03")),  # lock_timeout
    wrapped(PgError("57014")),  # statement_timeout
])
def test_busy_database_errors_are_busy(exc):
    assert is_busy(exc) and not is_disk_full(exc)
    assert fault_of(exc).status == 503


@pytest.mark.parametrize("exc", [
    OSError(errno.ENOSPC, "No space left on device"),
    OSError(errno.EDQUOT, "Disk quota exceeded"),
    wrapped(sqlite3.OperationalError("database or disk is full")),
    wrapped(PgError("53100")),
])
def test_full_disk_errors_are_full(exc):
    assert is_disk_full(exc)
    assert fault_of(exc).status == 507


@pytest.mark.parametrize("exc", [
    ValueError("a bug"), OSError(errno.EACCES, "Permission denied"), wrapped(sqlite3.OperationalError("no such table: x")),
    wrapped(PgError("23505")),
])
def test_other_errors_are_not_faults(exc):
    assert fault_of(exc) is None


# --- a database busy with another writer ----------------------------------------------------------


@contextmanager
def write_lock_held(app, database_url: str, *, table: str, row_id: int):
    """Another connection holds the write lock while the block runs: SQLite's whole-database lock (BEGIN IMMEDIATE),
    or on PostgreSQL the row's lock; the app's connections give up after a short wait instead of the usual one."""
    engine = app.state.engine
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        def short_wait(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA busy_timeout = 100")
        event.listen(engine, "connect", short_wait)
        engine.dispose()
        other = sqlite3.connect(url.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
            event.remove(engine, "connect", short_wait)
        return

    def short_lock_timeout(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        dbapi_connection.commit()
    event.listen(engine, "connect", short_lock_timeout)
    engine.dispose()
    with engine.connect() as other:
        other.execute(text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"), {"id": row_id})
        try:
            yield
        finally:
            other.rollback()
            event.remove(engine, "connect", short_lock_timeout)


def make_note(session, owner, body="Saved words"):
    note = Artefact(owner_id=owner.id, kind=ArtefactKind.note, title="Lab", body=body, occurred_on=date(2026, 12, 1),
                    audience=Audience.private)
    session.add(note)
    session.commit()
    return note


def test_busy_database_while_editing_a_note_keeps_the_text(app, client, session, database_url):
    student = make_user(session, make_school(session))
    note = make_note(session, student)
    login(client, student)
    form = {"title": "Lab", "body": "Typed while the school was busy", "occurred_on": "2026-12-01",
            "audience": "private", "version": "1"}
    with write_lock_held(app, database_url, table="artefacts", row_id=note.id):
        answer = client.post(f"/artefacts/{note.id}/edit", data=form)
    assert answer.status_code == 503
    assert BUSY in answer.text
    assert "Typed while the school was busy" in answer.text  # in the same form, ready to save again
    assert 'action="/artefacts/%d/edit"' % note.id in answer.text
    session.expire_all()
    saved = session.get(Artefact, note.id)
    assert (saved.body, saved.version) == ("Saved words", 1)
    assert client.post(f"/artefacts/{note.id}/edit", data=form).status_code == 303  # Save again works


def test_busy_database_while_writing_a_new_note_keeps_the_text(app, client, session, database_url):
    student = make_user(session, make_school(session))
    note = make_note(session, student)
    login(client, student)
    # On PostgreSQL the student's row: the new rows' foreign keys to it wait for its lock (FOR KEY SHARE).
    with write_lock_held(app, database_url, table="users", row_id=student.id):
        answer = client.post("/artefacts/note", data={"title": "New", "body": "A brand new note",
                                                      "occurred_on": "2026-12-01", "audience": "private"})
    assert answer.status_code == 503
    assert BUSY in answer.text and "A brand new note" in answer.text
    assert session.exec(select(Artefact).where(Artefact.id != note.id)).all() == []


def test_busy_database_while_writing_a_reflection_keeps_the_text(app, client, session, database_url):
    student = make_user(session, make_school(session))
    login(client, student)
    reflection = Reflection(owner_id=student.id, title="Science", body="Saved")
    session.add(reflection)
    session.commit()
    with write_lock_held(app, database_url, table="reflections", row_id=reflection.id):
        answer = post_multipart(client, f"/reflections/{reflection.id}/edit", {
            "title": "Science", "body": "My long reflection typed in class", "version": "1", "action": "publish"})
    assert answer.status_code == 503
    assert BUSY in answer.text and "My long reflection typed in class" in answer.text
    session.expire_all()
    assert session.get(Reflection, reflection.id).body == "Saved"


def test_busy_database_on_any_other_form_gives_the_text_back_to_send_again(app, client, session, database_url):
    """A route without a form of its own to show again (here, a goal's check-in): the text comes back in a form that
    posts it to the same address."""
    student = make_user(session, make_school(session))
    login(client, student)
    client.post("/goals/new", data={"title": "Read more"})
    goal = session.exec(select(Goal)).one()
    form = {"occurred_on": "2026-12-01", "note": "Read two chapters & liked them"}
    with write_lock_held(app, database_url, table="goals", row_id=goal.id):
        answer = client.post(f"/goals/{goal.id}/checkins", data=form)
    assert answer.status_code == 503
    assert BUSY in answer.text
    assert f'action="/goals/{goal.id}/checkins"' in answer.text
    assert 'name="note"' in answer.text and "Read two chapters &amp; liked them" in answer.text
    assert session.exec(select(CheckIn)).all() == []
    assert client.post(f"/goals/{goal.id}/checkins", data=form).status_code == 303


def test_busy_database_answers_an_htmx_request_with_a_fragment(app, client, session, database_url):
    student = make_user(session, make_school(session))
    login(client, student)
    client.post("/goals/new", data={"title": "Read more", "steps": ["Pick a book"]})
    goal = session.exec(select(Goal)).one()
    step = session.exec(select(GoalStep)).one()
    with write_lock_held(app, database_url, table="goal_steps", row_id=step.id):
        answer = client.post(f"/goals/{goal.id}/steps/{step.id}/toggle", data={"done": "true"},
                             headers={"HX-Request": "true"})
    assert answer.status_code == 503
    assert BUSY in answer.text and "<html" not in answer.text
    assert answer.headers["HX-Reswap"] == "beforebegin"
    session.expire_all()
    assert session.get(GoalStep, step.id).done is False


# --- a full disk -------------------------------------------------------------------------------


def no_space(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_during_an_upload_keeps_the_typed_details(client, session, settings, monkeypatch):
    student = make_user(session, make_school(session))
    login(client, student)
    monkeypatch.setattr(uploads, "flush_part", no_space)
    answer = client.post("/artefacts/upload", data={"title": "Field trip", "description": "What we saw at the river"},
                         files=[("files", ("notes.txt", b"river notes", "text/plain"))])
    assert answer.status_code == 507
    assert "out of space" in answer.text and "What we saw at the river" in answer.text
    assert session.exec(select(Artefact)).all() == []
    leftovers = [p for p in settings.upload_dir.rglob("*") if p.is_file()]
    assert leftovers == []


def test_full_disk_while_recording_a_reflection_keeps_the_text(client, session, settings, monkeypatch):
    student = make_user(session, make_school(session))
    login(client, student)
    monkeypatch.setattr(uploads, "flush_part", no_space)
    answer = post_multipart(client, "/reflections", {"title": "Trip", "body": "Typed before the disk filled",
                                                     "action": "publish"},
                            files={"audio": ("talk.ogg", b"OggS" + b"\0" * 200, "audio/ogg")})
    assert answer.status_code == 507
    assert FULL in answer.text and "Typed before the disk filled" in answer.text
    assert session.exec(select(Reflection)).all() == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_full_database_disk_keeps_the_text(app, client, session, database_url):
    """SQLite's own "database or disk is full" (the database file may not grow: max_page_count stands in for a
    full disk)."""
    student = make_user(session, make_school(session))
    login(client, student)

    def no_growth(dbapi_connection, _record):
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")
    event.listen(app.state.engine, "connect", no_growth)
    app.state.engine.dispose()
    body = "A long note. " * 6_900
    answer = client.post("/artefacts/note", data={"title": "Big", "body": body, "occurred_on": "2026-12-01",
                                                  "audience": "private"})
    event.remove(app.state.engine, "connect", no_growth)
    assert answer.status_code == 507
    assert FULL in answer.text and "A long note. A long note." in answer.text
    app.state.engine.dispose()
    assert session.exec(select(Artefact)).all() == []


def test_busy_database_while_editing_a_showcase_keeps_the_text(app, client, session, database_url):
    from app.models import Showcase

    student = make_user(session, make_school(session))
    showcase = Showcase(owner_id=student.id, title="My term", introduction="Saved intro")
    session.add(showcase)
    session.commit()
    login(client, student)
    form = {"title": "My term", "introduction": "An introduction typed while busy", "audience": "private",
            "version": "1"}
    with write_lock_held(app, database_url, table="showcases", row_id=showcase.id):
        answer = client.post(f"/showcases/{showcase.id}/edit", data=form)
    assert answer.status_code == 503
    assert BUSY in answer.text and "An introduction typed while busy" in answer.text
    assert 'name="version" value="1"' in answer.text  # still the version it was opened at: no overwrite on retry
    session.expire_all()
    assert session.get(Showcase, showcase.id).introduction == "Saved intro"


def test_busy_database_keeps_the_uploaded_files_for_the_next_save(app, client, session, database_url, settings):
    """The files were received, checked and stored before the save was refused: the form holds them (a signed
    token), so saving again adds them without choosing them again, once, and only for their owner."""
    from app import storage as file_storage
    from app.models import Artefact
    from tests.media import png

    student = make_user(session, make_school(session))
    login(client, student)
    with write_lock_held(app, database_url, table="users", row_id=student.id):
        refused = post_multipart(client, "/artefacts/upload", {"title": "Bridge model", "audience": "private"},
                                 files={"files": ("bridge.png", png(), "image/png")})
    assert refused.status_code == 503 and BUSY in refused.text
    assert "Bridge model" in refused.text and "bridge.png" in refused.text
    token = re.search(r'name="held_files" value="([^"]+)"', refused.text).group(1)
    assert session.exec(select(Artefact)).all() == []

    other = make_user(session, make_school(session))
    intruder = client.__class__(app, base_url="http://testserver", follow_redirects=False)
    login(intruder, other)
    assert post_multipart(intruder, "/artefacts/upload", {"title": "Mine now", "held_files": token}).status_code == 422

    saved = post_multipart(client, "/artefacts/upload", {"title": "Bridge model", "audience": "private",
                                                         "held_files": token})
    assert saved.status_code == 303
    artefact = session.exec(select(Artefact)).one()
    assert artefact.original_name == "bridge.png" and artefact.owner_id == student.id
    assert file_storage.uploads(settings).exists(artefact.stored_name)
    again = post_multipart(client, "/artefacts/upload", {"title": "Bridge model", "held_files": token})
    assert again.status_code == 422 and len(session.exec(select(Artefact)).all()) == 1


def test_busy_database_keeps_a_reflections_recording_for_the_next_save(app, client, session, database_url):
    student = make_user(session, make_school(session))
    login(client, student)
    fields = {"title": "Trip", "body": "What I said on the bus", "action": "publish"}
    with write_lock_held(app, database_url, table="users", row_id=student.id):
        refused = post_multipart(client, "/reflections", fields,
                                 files={"audio": ("talk.ogg", b"OggS" + b"\0" * 200, "audio/ogg")})
    assert refused.status_code == 503 and "Your recording is kept" in refused.text
    token = re.search(r'name="held_files" value="([^"]+)"', refused.text).group(1)
    assert session.exec(select(Reflection)).all() == []

    saved = post_multipart(client, "/reflections", {**fields, "held_files": token})
    assert saved.status_code == 303
    reflection = session.exec(select(Reflection)).one()
    assert reflection.audio_artefact_id is not None
    assert session.get(Artefact, reflection.audio_artefact_id).original_name == "talk.ogg"

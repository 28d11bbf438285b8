"""/healthz: 200 when Folio can save (database answers and accepts writes, room on disk), 503 when not."""

import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.main import create_app
from app.models import Role
from tests.conftest import make_settings
from tests.factories import login, make_school, make_user


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_database_down_is_503(tmp_path):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    settings = make_settings(tmp_path, "postgresql+psycopg://folio@127.0.0.1:9/folio?connect_timeout=2")
    app = create_app(settings)
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    app.state.engine.dispose()


def test_a_nearly_full_disk_makes_folio_unavailable_and_says_why_only_to_those_allowed(
        client, client_from, session, monkeypatch):
    from collections import namedtuple

    import app.services.operations.health as health

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(health.shutil, "disk_usage", lambda _path: usage(10**10, 10**10 - 50 * 2**20, 50 * 2**20))

    anonymous = client.get("/healthz?verbose")
    assert anonymous.status_code == 503 and anonymous.json() == {"status": "unavailable"}

    local = client_from("127.0.0.1").get("/healthz?verbose").json()
    assert local["status"] == "unavailable"
    assert local["checks"]["uploads space"] == {"ok": False, "detail": "50 MB free (at least 512 MB needed)"}
    assert local["checks"]["database"]["ok"] is True

    school = make_school(session)
    admin = make_user(session, school, role=Role.admin)
    student = make_user(session, school)
    signed_in = client_from("203.0.113.9")
    login(signed_in, admin)
    assert "checks" in signed_in.get("/healthz?verbose").json()
    other = client_from("203.0.113.10")
    login(other, student)
    assert "checks" not in other.get("/healthz?verbose").json()


def test_a_database_that_refuses_writes_makes_folio_unavailable(app, client_from, settings):
    engine = app.state.engine
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", lambda connection, _record: connection.execute("PRAGMA query_only=1"))
    else:
        with engine.connect() as connection:
            database = connection.exec_driver_sql("SELECT current_database()").scalar()
            connection.exec_driver_sql(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
            connection.commit()
    engine.dispose()  # new connections take the read-only setting
    response = client_from("127.0.0.1").get("/healthz?verbose")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "detail": "answers but refuses writes"}

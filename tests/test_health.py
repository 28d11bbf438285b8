"""/healthz answers 200 when the database does, 503 when it doesn't."""

from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import make_settings


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

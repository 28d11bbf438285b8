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
    assert response.json() == {"status": "unavailable", "reason": "database"}
    app.state.engine.dispose()


def test_healthz_answers_while_every_worker_thread_is_busy(client, app):
    # A loaded server has every worker thread taken and more requests queued for one: the health check must not
    # join that queue (a monitor with a short timeout would call a busy server down).
    import threading

    import anyio.to_thread

    limiter = client.portal.call(anyio.to_thread.current_default_thread_limiter)
    holders = [object() for _ in range(int(limiter.total_tokens))]
    for holder in holders:
        client.portal.call(limiter.acquire_on_behalf_of, holder)
    answered: list[int] = []
    try:
        asking = threading.Thread(target=lambda: answered.append(client.get("/healthz").status_code), daemon=True)
        asking.start()
        asking.join(timeout=10)
        assert answered == [200], "/healthz waited for a worker thread"
    finally:
        for holder in holders:
            client.portal.call(limiter.release_on_behalf_of, holder)
        asking.join(timeout=10)


def test_healthz_takes_no_connection_from_the_requests_pool(client, app):
    from sqlalchemy import event

    checkouts: list[object] = []

    def checked_out(*args) -> None:
        checkouts.append(args)

    event.listen(app.state.engine, "checkout", checked_out)
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        event.remove(app.state.engine, "checkout", checked_out)
    assert checkouts == []

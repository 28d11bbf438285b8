"""The cost of the API's rate limit (app.api.limits): one UPDATE ... RETURNING on the token's row a request, in its own
short transaction, as app.api.auth runs it.

Figures: the time of one `take` with its commit (sequential, best of three runs of REQUESTS), the throughput of
THREADS threads taking for one token at once (the worst case: every request contends for the same row), and, for
scale, a whole `GET /api/v1/me` through the app. SQLite by default; FOLIO_BENCH_POSTGRES=1 for a throwaway PostgreSQL.

    .venv/bin/python -m bench.api_rate_limit
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from app.api import limits  # noqa: E402
from app.api.tokens import create_token, parse_token_form  # noqa: E402
from app.config import Settings  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import ApiToken, Role, School, User  # noqa: E402
from app.models.base import utcnow  # noqa: E402
from app.migrate import upgrade  # noqa: E402

REQUESTS = 2000
THREADS = 4


def _settings(folder: Path, url: str) -> Settings:
    return Settings(_env_file=None, database_url=url, data_dir=folder / "data", upload_dir=folder / "uploads",
                    secret_key="bench-secret-key-that-is-long-enough-for-it", base_url="https://folio.example",
                    api_rate_per_minute=100_000)


def _token(engine) -> tuple[int, str]:
    with Session(engine) as session:
        school = School(name="Bench school")
        session.add(school)
        session.flush()
        user = User(school_id=school.id, username="bench", display_name="Bench", role=Role.student,
                    password_hash="!")  # it never signs in
        session.add(user)
        session.flush()
        data = parse_token_form(name="bench", scopes="read", expiry="30", expiry_date="", today=utcnow().date())
        row, token = create_token(session=session, user=user, data=data)
        session.commit()
        return row.id, token


def _sequential(engine, token_id: int) -> list[float]:
    times = []
    with Session(engine) as session:
        for _ in range(REQUESTS):
            started = time.perf_counter()
            limits.take(session=session, token_id=token_id, per_minute=10**9)
            session.commit()
            times.append(time.perf_counter() - started)
    return times


def _threaded(engine, token_id: int) -> float:
    barrier = threading.Barrier(THREADS)

    def work() -> None:
        barrier.wait()
        with Session(engine) as session:
            for _ in range(REQUESTS // THREADS):
                limits.take(session=session, token_id=token_id, per_minute=10**9)
                session.commit()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return REQUESTS / (time.perf_counter() - started)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="folio-bench-rate-"))
    url = f"sqlite:///{folder / 'folio.db'}"
    postgres = None
    if os.environ.get("FOLIO_BENCH_POSTGRES"):
        from tests.pg_server import ThrowawayPostgres

        postgres = ThrowawayPostgres()
        postgres.start()
        url = postgres.create_database("bench_rate")
    app = create_app(_settings(folder, url))
    upgrade(app.state.engine)
    try:
        with TestClient(app) as client:
            engine = app.state.engine
            token_id, token = _token(engine)
            runs = [_sequential(engine, token_id) for _ in range(3)]
            best = min(runs, key=statistics.median)
            print(f"{engine.dialect.name}: take + commit, median {statistics.median(best) * 1e6:.0f} us, "
                  f"p95 {sorted(best)[int(len(best) * 0.95)] * 1e6:.0f} us ({REQUESTS} sequential, best of 3)")
            print(f"{engine.dialect.name}: {THREADS} threads on one token: {_threaded(engine, token_id):.0f} takes/s")
            with Session(engine) as session:
                count = session.exec(select(ApiToken.rate_count).where(ApiToken.id == token_id)).one()
            print(f"{engine.dialect.name}: counted {count} in the last window")
            headers = {"Authorization": f"Bearer {token}"}
            times = []
            for _ in range(300):
                started = time.perf_counter()
                assert client.get("/api/v1/me", headers=headers).status_code == 200
                times.append(time.perf_counter() - started)
            print(f"{engine.dialect.name}: GET /api/v1/me, median {statistics.median(times) * 1e3:.2f} ms (300)")
    finally:
        app.state.engine.dispose()
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    main()

"""The whole path of one photo: a 24-megapixel JPEG POSTed to /artefacts/upload on a real app (SQLite),
through the route, the streamed receiver, sniffing, EXIF removal, thumbnails and the database rows.

Run: .venv/bin/python bench/upload_http.py
"""

from __future__ import annotations

import statistics
import sys
import warnings
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.config import Settings  # noqa: E402
from app.db import make_engine  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import Role, School  # noqa: E402
from app.services.accounts.accounts import create_user  # noqa: E402
from bench.uploads import photo_24mp  # noqa: E402


def main() -> None:
    jpeg = photo_24mp(orientation=6)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        settings = Settings(_env_file=None, database_url=f"sqlite:///{root / 'folio.db'}", data_dir=root,
                            upload_dir=root / "uploads", secret_key="bench-" * 8, base_url="http://testserver")
        engine = make_engine(settings)
        upgrade(engine)
        with Session(engine) as session:
            school = School(name="Bench")
            session.add(school)
            session.flush()
            create_user(session=session, school_id=school.id, role=Role.student, username="bench",
                        display_name="Bench", password="bench-password")
            session.commit()
        engine.dispose()
        app = create_app(settings)
        times = []
        with TestClient(app, base_url="http://testserver") as client:
            client.post("/login", data={"identifier": "bench", "password": "bench-password"})
            for _ in range(3):
                started = time.perf_counter()
                response = client.post("/artefacts/upload", files=[("files", ("photo.jpg", jpeg, "image/jpeg"))],
                                       headers={"Accept": "application/json"})
                times.append(time.perf_counter() - started)
                assert response.status_code == 201, response.text
        app.state.engine.dispose()
    print(f"24 MP JPEG ({len(jpeg) / 1e6:.1f} MB, EXIF orientation 6) uploaded over HTTP and thumbnailed: "
          f"best {min(times):.2f} s, median {statistics.median(times):.2f} s (3 runs)")


if __name__ == "__main__":
    main()

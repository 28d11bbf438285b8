"""Folio's busiest pages against bare uvicorn endpoints, in one run: requests per second and the ratio.

Seeds a fresh SQLite database with the Riverside demo (Maya, the student, gets extra notes so her timeline has
dozens of items, a class, a guardian, competencies and feedback), serves it with one uvicorn process, serves
bench/bare.py's Jinja page and plaintext endpoint with another, and drives each endpoint in turn with the same
number of connections (wrk when installed, else an httpx closed loop). Rounds interleave the servers, so a
machine shared with others slows all of them alike; the median round is reported.

    .venv/bin/python bench/pages.py                       # 8 connections, 5 s per endpoint, 3 rounds
    .venv/bin/python bench/pages.py --baseline-src /tmp/folio-before   # also an older checkout, same database

With --baseline-src, a second Folio runs from that directory (e.g. `git archive <commit> | tar -x -C DIR`;
its translations are compiled here) against the same database, so before and after share the run.
While the student home is under load, /healthz is asked 20 times one after another and its latency reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import _free_port  # noqa: E402

EXTRA_NOTES = 36  # Maya's demo portfolio plus these: a timeline of a few pages


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    who: str  # student, teacher, family or "" (no cookie)
    anchor: str  # the bare endpoint it is compared with
    htmx: bool = False


def endpoints(class_id: int) -> list[Endpoint]:
    return [
        Endpoint("student home", "/student", "student", "/page"),
        Endpoint("timeline filter (HTMX)", "/student?kind=note", "student", "/page", htmx=True),
        Endpoint("class overview", f"/classes/{class_id}/overview", "teacher", "/page"),
        Endpoint("class grid", f"/classes/{class_id}/grid", "teacher", "/page"),
        Endpoint("family home", "/family", "family", "/page"),
        Endpoint("healthz", "/healthz", "", "/plaintext"),
    ]


# --- the data -------------------------------------------------------------------------------------------------------

def seed(folder: Path):
    """The demo school plus Maya's extra notes; sessions for Maya, her teacher and her family. Returns
    (settings, {who: token}, the class id)."""
    from sqlmodel import Session, select

    from app import storage as file_storage
    from app.auth import start_session
    from app.config import Settings
    from app.db import make_engine
    from app.migrate import upgrade
    from app.models import ArtefactKind, Audience, SchoolClass, User
    from app.services.demo.demo import seed_demo
    from app.services.portfolio.artefacts import ArtefactInput, create_text_artefact

    port = _free_port()
    settings = Settings(_env_file=None, database_url=f"sqlite:///{folder / 'folio.db'}", data_dir=folder / "data",
                        upload_dir=folder / "uploads", secret_key="pages-bench-" * 4, port=port,
                        base_url=f"http://127.0.0.1:{port}")
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        seed_demo(session=session, only_if_empty=False, store=file_storage.uploads(settings))
        users = {u.username: u for u in session.exec(select(User)).all()}
        maya = users["student"]
        audiences = (Audience.private, Audience.class_, Audience.family)
        for i in range(EXTRA_NOTES):
            create_text_artefact(session=session, owner=maya, kind=ArtefactKind.note, data=ArtefactInput(
                title=f"Science journal, entry {i + 1}", audience=audiences[i % 3],
                body="We mixed baking soda and vinegar to show how **pressure** builds under the crust. " * 3,
                tags=["science", "journal"] if i % 2 else ["reading"], occurred_on=date.today() - timedelta(days=i)))
        session.commit()
        class_id = session.exec(select(SchoolClass.id).where(SchoolClass.name == "Grade 5 Maple")).one()
        tokens = {who: start_session(session=session, user=users[name], user_agent="bench/pages.py")
                  for who, name in (("student", "student"), ("teacher", "teacher"), ("family", "family"))}
        session.commit()
    engine.dispose()
    return settings, tokens, class_id


# --- the servers ----------------------------------------------------------------------------------------------------

@contextmanager
def server(command: list[str], *, cwd: Path, env: dict[str, str], probe: str):
    process = subprocess.Popen(command, cwd=cwd, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(probe, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{command} did not start")
            time.sleep(0.1)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def folio_server(settings, *, source: Path, port: int, http: str = "auto"):
    env = dict(os.environ, PYTHONPATH=str(source), FOLIO_WORKERS="1")
    for name in ("database_url", "data_dir", "upload_dir", "secret_key"):
        env[f"FOLIO_{name.upper()}"] = str(getattr(settings, name))
    env["FOLIO_BASE_URL"] = f"http://127.0.0.1:{port}"
    env["FOLIO_ENVIRONMENT"] = "production"  # what a school runs: no development conveniences
    env["FOLIO_COOKIE_SECURE"] = "false"  # plain http on loopback
    return server([sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host", "127.0.0.1",
                   "--port", str(port), "--http", http, "--log-level", "warning", "--no-access-log"], cwd=source, env=env,
                  probe=f"http://127.0.0.1:{port}/healthz")


def bare_server(port: int):
    return server([sys.executable, "-m", "uvicorn", "--factory", "bench.bare:create_app", "--host", "127.0.0.1",
                   "--port", str(port), "--log-level", "warning", "--no-access-log"], cwd=ROOT,
                  env=dict(os.environ, PYTHONPATH=str(ROOT)), probe=f"http://127.0.0.1:{port}/plaintext")


def prepare_source(source: Path) -> None:
    """Compile an older checkout's translations (compiled catalogs are not in git)."""
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "-q", "compile", "-d", str(source / "app" / "translations")], check=True)


# --- the load -------------------------------------------------------------------------------------------------------

def headers_for(endpoint: Endpoint, tokens: dict[str, str]) -> dict[str, str]:
    headers = {}
    if endpoint.who:
        headers["Cookie"] = f"folio_session={tokens[endpoint.who]}"
    if endpoint.htmx:
        headers["HX-Request"] = "true"
    return headers


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive_wrk(url: str, headers: dict[str, str], *, connections: int, seconds: float) -> tuple[float, int]:
    """(requests per second, non-2xx answers) from wrk with one thread."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return rate, (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)


def drive_httpx(url: str, headers: dict[str, str], *, connections: int, seconds: float) -> tuple[float, int]:
    """The same with httpx in a closed loop (the generator then takes CPU the server could have used)."""

    async def run() -> tuple[int, int]:
        done = bad = 0
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(headers=headers, timeout=30,
                                     limits=httpx.Limits(max_connections=connections)) as client:
            async def loop() -> None:
                nonlocal done, bad
                while time.monotonic() < deadline:
                    response = await client.get(url)
                    done += 1
                    bad += response.status_code >= 300
            await asyncio.gather(*(loop() for _ in range(connections)))
        return done, bad

    began = time.monotonic()
    done, bad = asyncio.run(run())
    return done / (time.monotonic() - began), bad


def check(url: str, headers: dict[str, str]) -> int:
    """Warm the endpoint up and return its size; it must answer 200 (a redirect would measure the sign-in page)."""
    for _ in range(5):
        response = httpx.get(url, headers=headers, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return len(response.content)


def healthz_under_load(base: str, tokens: dict[str, str], drive, *, connections: int) -> list[float]:
    """Latencies of 20 /healthz requests, one after another, while the student home is driven."""
    latencies: list[float] = []
    loader = threading.Thread(target=drive, args=(f"{base}/student", {"Cookie": f"folio_session={tokens['student']}"}),
                              kwargs={"connections": connections, "seconds": 6})
    loader.start()
    time.sleep(1.5)
    with httpx.Client(timeout=30) as client:
        for _ in range(20):
            began = time.perf_counter()
            client.get(f"{base}/healthz").raise_for_status()
            latencies.append(time.perf_counter() - began)
            time.sleep(0.1)
    loader.join()
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, help="an older Folio checkout to measure beside this one")
    parser.add_argument("--baseline-http", default="auto", help="uvicorn's HTTP parser for the older checkout "
                        "(h11 for one from before httptools was a dependency)")
    parser.add_argument("--only", help="measure only endpoints whose name contains this")
    args = parser.parse_args(argv)
    drive = drive_wrk if shutil.which("wrk") else drive_httpx
    if args.baseline_src:
        prepare_source(args.baseline_src.resolve())
    with tempfile.TemporaryDirectory(prefix="folio-pages-") as folder, ExitStack() as stack:
        began = time.monotonic()
        settings, tokens, class_id = seed(Path(folder))
        print(f"seeded in {time.monotonic() - began:.1f} s; driving with {drive.__name__}, {args.connections} "
              f"connections, {args.seconds:g} s per endpoint, {args.rounds} rounds", file=sys.stderr)
        bare_port = _free_port()
        pids = {"bare": stack.enter_context(bare_server(bare_port))}
        targets = {"bare": f"http://127.0.0.1:{bare_port}"}
        if args.baseline_src:
            port = _free_port()
            pids["before"] = stack.enter_context(folio_server(settings, source=args.baseline_src.resolve(), port=port,
                                                              http=args.baseline_http))
            targets["before"] = f"http://127.0.0.1:{port}"
        port = _free_port()
        pids["folio"] = stack.enter_context(folio_server(settings, source=ROOT, port=port))
        targets["folio"] = f"http://127.0.0.1:{port}"

        chosen = [e for e in endpoints(class_id) if not args.only or args.only in e.name]
        sizes: dict[tuple[str, str], int] = {}
        rates: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}  # the server's CPU seconds per request
        failures = 0
        for endpoint in chosen:
            for target, base in targets.items():
                path, headers = (endpoint.anchor, {}) if target == "bare" else (endpoint.path,
                                                                                  headers_for(endpoint, tokens))
                sizes[(endpoint.name, target)] = check(base + path, headers)
        for _ in range(args.rounds):
            for endpoint in chosen:
                for target, base in targets.items():
                    path, headers = (endpoint.anchor, {}) if target == "bare" else (endpoint.path,
                                                                                      headers_for(endpoint, tokens))
                    cpu_before, began = cpu_seconds(pids[target]), time.monotonic()
                    rate, bad = drive(base + path, headers, connections=args.connections, seconds=args.seconds)
                    served = rate * (time.monotonic() - began)
                    failures += bad
                    rates.setdefault((endpoint.name, target), []).append(rate)
                    cpu.setdefault((endpoint.name, target), []).append(
                        (cpu_seconds(pids[target]) - cpu_before) / max(1.0, served))
        probes = {target: healthz_under_load(base, tokens, drive, connections=args.connections)
                  for target, base in targets.items() if target != "bare"}

    median = {key: statistics.median(values) for key, values in rates.items()}
    cost = {key: statistics.median(values) for key, values in cpu.items()}
    columns = [t for t in targets if t != "bare"]
    print("requests per second (median of the rounds), and as a share of the bare endpoint's")
    print(f"{'endpoint':<24}{'bytes':>8}{'bare req/s':>12}" + "".join(f"{t + ' req/s':>14}{t + ' %':>10}" for t in columns))
    for endpoint in chosen:
        bare = median[(endpoint.name, "bare")]
        line = f"{endpoint.name:<24}{sizes[(endpoint.name, 'folio')]:>8}{bare:>12.0f}"
        for target in columns:
            rate = median[(endpoint.name, target)]
            line += f"{rate:>14.1f}{100 * rate / bare:>9.1f}%"
        print(line + f"   (anchor {endpoint.anchor}, {sizes[(endpoint.name, 'bare')]} bytes)")
    # On a machine shared with others, throughput follows whatever CPU the server was given; the server's own CPU
    # time per request does not, and its inverse is the rate one core would serve.
    print("server CPU ms per request (median), and the bare endpoint's cost as a share of it (= req/s per core ratio)")
    print(f"{'endpoint':<24}{'bare ms':>10}" + "".join(f"{t + ' ms':>12}{t + ' %':>10}" for t in columns))
    for endpoint in chosen:
        bare = cost[(endpoint.name, "bare")]
        line = f"{endpoint.name:<24}{bare * 1000:>10.3f}"
        for target in columns:
            spent = cost[(endpoint.name, target)]
            line += f"{spent * 1000:>12.2f}{100 * bare / spent:>9.1f}%"
        print(line)
    for target, latencies in probes.items():
        print(f"/healthz while /student is loaded ({target}): median {statistics.median(latencies) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms")
    if failures:
        print(f"{failures} requests failed (not 200)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

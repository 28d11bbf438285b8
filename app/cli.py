"""The `folio` command: migrate, seed-demo, create-admin, send-digests, worker, serve, backup, check, restore,
roster-sync."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sqlmodel import Session, select

from app.config import Settings, get_settings
from app.db import make_engine
from app.models import Role, School, User


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from app.migrate import upgrade

    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    print("Database is up to date.")
    return 0


def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from app import storage as file_storage
    from app.services.demo.demo import DEMO_PASSWORD, demo_logins, seed_demo

    if settings.is_production:
        print("Refusing to seed demo data in production (FOLIO_ENVIRONMENT=production).", file=sys.stderr)
        return 2
    engine = make_engine(settings)
    with Session(engine) as session:
        outcome = seed_demo(session=session, settings=settings, only_if_empty=args.if_empty, store=file_storage.uploads(settings))
    engine.dispose()
    print(outcome.message)
    if outcome.demo_present:
        print(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        for username, description in demo_logins():
            print(f"  {username:<10} {description}")
        print()
    return 0


def cmd_create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from app.models import AuditEventKind
    from app.services.accounts import audit
    from app.services.accounts.accounts import create_user, password_problem

    password = args.password if args.password is not None else (
        sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    )
    problem = password_problem(password, username=args.username)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    engine = make_engine(settings)
    with Session(engine) as session:
        if session.exec(select(User).where(User.username == args.username.strip().lower())).first():
            print(f"The username {args.username!r} is already taken.", file=sys.stderr)
            return 2
        school = session.exec(select(School).where(School.name == args.school)).first()
        if school is None:
            school = School(name=args.school)
            session.add(school)
            session.flush()
        admin = create_user(
            session=session, school_id=school.id, role=Role.admin, username=args.username,
            display_name=args.display_name or args.username, password=password, email=args.email,
        )
        session.flush()
        # No actor: whoever runs the command has the server, not a Folio account.
        audit.record(session=session, event=AuditEventKind.account_created, actor=None, subject=admin,
                     details={"role": Role.admin.value, "by": "folio create-admin"})
        session.commit()
    engine.dispose()
    print(f"Created administrator {args.username!r} for {args.school}.")
    return 0


def cmd_send_digests(settings: Settings, _args: argparse.Namespace) -> int:
    from app.services.family.digests import send_due
    from app.services.moderation.email_notifications import send_pending

    if not settings.email_enabled:
        print("Email is not configured: set FOLIO_SMTP_HOST (and the other FOLIO_SMTP_* settings) to send digests.",
              file=sys.stderr)
        return 2
    engine = make_engine(settings)
    with Session(engine) as session:
        digests = send_due(session=session, settings=settings)
        emails = send_pending(session=session, settings=settings)
    engine.dispose()
    print(f"Digests: {digests.sent} sent, {digests.empty} with nothing new, {digests.not_due} not due yet, "
          f"{digests.busy} being sent by another run, {digests.skipped} skipped, {digests.failed} failed. "
          f"Notification emails: {emails.sent} sent, {emails.failed} failed.")
    # Failed ones are retried next run; a non-zero code lets cron or a monitor notice.
    return 1 if digests.failed or emails.failed else 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    import signal

    from app.job_runner import JobRunner

    engine = make_engine(settings)
    runner = JobRunner(engine=engine, settings=settings)
    try:
        if args.once:
            ran = runner.run_once()
            print(f"Ran {ran} job{'s' if ran != 1 else ''}.")
            return 0
        # A container stops with SIGTERM: finish the current job's loop turn and exit, as on Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: runner.stopping.set() or runner.wake.set())
        print(f"Folio worker {runner.worker_id} is running jobs; press Ctrl-C to stop.")
        try:
            runner.run_forever()
        except KeyboardInterrupt:
            pass
        print("Worker stopped.")
        return 0
    finally:
        engine.dispose()


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    # The same proxies the app believes (app.security.client_address), so logs and throttles agree.
    proxies = [str(network) for network in settings.trusted_proxy_networks]
    options = dict(host=args.host or settings.host, port=args.port or settings.port, proxy_headers=bool(proxies),
                   forwarded_allow_ips=proxies)
    processes = args.workers or settings.serving_processes
    if processes == 1:
        from app.main import create_app

        uvicorn.run(create_app(settings), **options)
        return 0
    return _serve_with_workers(settings, processes, options)


def _serve_with_workers(settings: Settings, processes: int, options: dict) -> int:
    """uvicorn's worker processes, each building its app from the environment (app.main:create_app); the jobs run
    here, in this process, once: not in each worker."""
    import os

    import uvicorn

    from app.job_runner import JobRunner

    settings.resolved_secret_key()  # a development secret is generated once, here, not raced by the workers
    runner = engine = None
    if settings.job_runner == "in-process":
        os.environ["FOLIO_JOB_RUNNER"] = "external"  # read by the workers: they leave the jobs to this runner
        engine = make_engine(settings)
        runner = JobRunner(engine=engine, settings=settings)
        runner.start()
    try:
        uvicorn.run("app.main:create_app", factory=True, workers=processes, **options)
    finally:
        if runner is not None:
            runner.stop()
            engine.dispose()
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.operations.backup import BackupError, backup
    from app.services.operations.pg_tools import MissingTool

    try:
        report = backup(settings=settings, dest=args.dest, progress=print)
    except (BackupError, MissingTool) as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 2
    print(f"Backup written to {report.path}: the database and {report.files:,} files "
          f"({report.bytes / 1024 / 1024:,.1f} MB) in {report.seconds:.1f} s.")
    if report.missing:
        print(f"{len(report.missing)} files the database names were missing (listed in the manifest): "
              "run 'folio check'.", file=sys.stderr)
        return 1
    return 0


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.operations.file_check import check_files, describe

    engine = make_engine(settings)
    try:
        report = check_files(settings=settings, engine=engine, repair=args.repair)
    finally:
        engine.dispose()
    print("\n".join(describe(report)))
    return 1 if report.problems_left else 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    from app.migrate import upgrade
    from app.services.operations.backup import BackupError
    from app.services.operations.pg_tools import MissingTool
    from app.services.operations.restore import restore

    try:
        report = restore(settings=settings, source=args.source, progress=print)
    except (BackupError, MissingTool) as exc:
        print(f"Restore failed, nothing was changed: {exc}", file=sys.stderr)
        return 2
    # A backup from an older Folio is brought up to this version's schema.
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    for warning in report.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    print(f"Restored the database and {report.files:,} files; the database is up to date.")
    return 0


def cmd_roster_sync(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.roster_import.sync_command import roster_sync

    return roster_sync(settings=settings, args=args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="folio", description="Folio, the student e-portfolio.")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    seed = commands.add_parser("seed-demo", help="create the Riverside School demo (never in production)")
    seed.add_argument("--if-empty", action="store_true", help="only when the database has no school yet")
    seed.set_defaults(func=cmd_seed_demo)

    admin = commands.add_parser("create-admin", help="create a school administrator")
    admin.add_argument("--username", required=True)
    admin.add_argument("--school", required=True, help="school name (created if new)")
    admin.add_argument("--display-name")
    admin.add_argument("--email")
    secret = admin.add_mutually_exclusive_group()
    secret.add_argument("--password", help="avoid: it stays in shell history; prefer the prompt")
    secret.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    admin.set_defaults(func=cmd_create_admin)

    commands.add_parser(
        "send-digests", help="email the family digests that are due and pending notification emails (run it hourly)"
    ).set_defaults(func=cmd_send_digests)

    worker = commands.add_parser(
        "worker", help="run exports and imports (when FOLIO_JOB_RUNNER=external); Ctrl-C to stop"
    )
    worker.add_argument("--once", action="store_true", help="run the jobs queued now, then exit")
    worker.set_defaults(func=cmd_worker)

    serve = commands.add_parser("serve", help="serve Folio over HTTP")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="processes to serve with (default FOLIO_WORKERS: one per core)")
    serve.set_defaults(func=cmd_serve)

    backup = commands.add_parser(
        "backup", help="copy the database, the files it references and the secret key into a new folder, while "
        "Folio runs")
    backup.add_argument("dest", type=Path, help="a new or empty folder")
    backup.set_defaults(func=cmd_backup)

    check = commands.add_parser(
        "check", help="compare the stored files with the database: files no row names, missing files, storage counts")
    check.add_argument("--repair", action="store_true",
                       help="move old files no row names to the trash and correct the storage counts")
    check.set_defaults(func=cmd_check)

    restore = commands.add_parser(
        "restore", help="check a backup against its manifest and restore it into an empty database and upload folder")
    restore.add_argument("source", type=Path, help="a folder made by 'folio backup'")
    restore.set_defaults(func=cmd_restore)

    sync = commands.add_parser(
        "roster-sync", help="import the school's roster from a OneRoster 1.1/1.2 REST service (run it nightly)")
    sync.add_argument("--url", required=True, help="the service's base address, e.g. https://sis.example.org/ims/oneroster/v1p1")
    sync.add_argument("--client-id", required=True)
    sync.add_argument("--client-secret", required=True)
    sync.add_argument("--token-url", help="the OAuth 2 token endpoint (default: /token on the service's host)")
    sync.add_argument("--school", help="the school's name (needed when this Folio holds several schools)")
    sync.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    sync.add_argument("--links-file", type=Path, help="write the new accounts' setup links to this CSV file")
    sync.set_defaults(func=cmd_roster_sync)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(get_settings(), args)


if __name__ == "__main__":
    raise SystemExit(main())

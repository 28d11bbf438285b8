"""The demo school and the `folio` command."""

import io
from datetime import date, timedelta

from sqlmodel import Session, func, select

from app import storage
from app import cli
from app.config import Environment
from app.models import ClassRole, Enrollment, GuardianLink, Role, School, SchoolClass, SchoolTerm, User
from app.services.demo.demo import DEMO_PASSWORD, seed_demo
from tests.factories import login


def test_seed_demo_builds_riverside_once(app, session, client, settings):
    outcome = seed_demo(session=session, settings=settings, only_if_empty=True, store=storage.uploads(settings))
    assert outcome.created
    assert session.exec(select(School.name)).all() == ["Riverside School"]
    classes = session.exec(select(SchoolClass)).all()
    assert len(classes) == 2
    [term] = session.exec(select(SchoolTerm)).all()  # this school year, so rollover has something to start from
    assert term.starts_on <= date.today() + timedelta(days=31) and term.ends_on >= date.today()
    assert {(c.term_id, c.year) for c in classes} == {(term.id, term.school_year)}
    for school_class in classes:
        count = session.exec(select(func.count()).select_from(Enrollment).where(
            Enrollment.class_id == school_class.id, Enrollment.role == ClassRole.student)).one()
        assert count == 8
    roles = {u.username: u.role for u in session.exec(select(User)).all()}
    assert roles["admin"] is Role.admin and roles["teacher"] is Role.teacher
    assert roles["student"] is Role.student and roles["family"] is Role.guardian
    assert session.exec(select(func.count()).select_from(GuardianLink)).one() >= 3

    again = seed_demo(session=session, settings=settings, only_if_empty=True, store=storage.uploads(settings))
    assert not again.created
    assert session.exec(select(func.count()).select_from(User)).one() == len(roles)

    for username in ("admin", "teacher", "student", "family"):
        client.cookies.clear()
        login(client, username, DEMO_PASSWORD)
    assert "Maya Chen" in client.get("/family").text


def test_seed_is_refused_in_production(settings, capsys, monkeypatch):
    production = settings.model_copy(update={"environment": Environment.production, "secret_key": "x" * 40})
    monkeypatch.setattr(cli, "get_settings", lambda: production)
    assert cli.main(["seed-demo"]) == 2
    assert "Refusing" in capsys.readouterr().err


def test_seed_only_if_empty_leaves_a_real_school_alone(app, session, settings):
    session.add(School(name="Hillside High"))
    session.commit()
    outcome = seed_demo(session=session, settings=settings, only_if_empty=True, store=storage.uploads(settings))
    assert not outcome.created and not outcome.demo_present
    assert session.exec(select(func.count()).select_from(School)).one() == 1


def test_cli_seed_prints_the_demo_logins(settings, capsys, monkeypatch):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["seed-demo", "--if-empty"]) == 0
    out = capsys.readouterr().out
    assert "folio-demo" in out and "student" in out and "teacher" in out and "family" in out


def test_create_admin(settings, app, client, monkeypatch, capsys):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long admin secret\n"))
    assert cli.main(["create-admin", "--school", "Hillside High", "--username", "Head",
                     "--display-name", "Sam Lee", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a long admin secret\n"))
    assert cli.main(["create-admin", "--school", "Hillside High", "--username", "head", "--password-stdin"]) == 2
    assert "already taken" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["create-admin", "--school", "X", "--username", "x", "--password-stdin"]) == 2
    with Session(app.state.engine) as session:
        admin = session.exec(select(User).where(User.username == "head")).one()
        assert admin.role is Role.admin and admin.display_name == "Sam Lee"
        assert session.exec(select(School.name)).all() == ["Hillside High"]
    login(client, "head", "a long admin secret")
    assert client.get("/admin").status_code == 200


def test_cli_migrate(settings, monkeypatch, capsys):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_serve_trusts_forwarded_headers_only_from_the_configured_proxies(settings, monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    args = cli.build_parser().parse_args(["serve"])
    behind_proxy = settings.model_copy(update={"trusted_proxies": "10.0.0.0/8, 192.0.2.7"})
    assert cli.cmd_serve(behind_proxy, args) == 0
    assert calls[-1]["proxy_headers"] is True
    assert set(calls[-1]["forwarded_allow_ips"]) == {"10.0.0.0/8", "192.0.2.7/32"}
    assert cli.cmd_serve(settings.model_copy(update={"trusted_proxies": ""}), args) == 0
    assert calls[-1]["proxy_headers"] is False


def test_every_demo_family_page_opens_even_for_a_child_who_shared_nothing(app, session, client, settings):
    """Issue 13: a new family's child page (nothing shared yet) was reported as a 500."""
    from tests.factories import PASSWORD, link_guardian, make_user

    seed_demo(session=session, settings=settings, only_if_empty=True, store=storage.uploads(settings))
    school = session.exec(select(School)).one()
    for username in ("family", "family2", "family3"):
        client.cookies.clear()
        login(client, username, DEMO_PASSWORD)
        guardian = session.exec(select(User).where(User.username == username)).one()
        children = session.exec(select(GuardianLink.student_id).where(GuardianLink.guardian_id == guardian.id)).all()
        assert client.get("/family").status_code == 200
        for child_id in children:
            assert client.get(f"/family/children/{child_id}").status_code == 200
    # A fresh guardian of a demo student who has shared nothing with family, and of a brand-new student.
    linked = set(session.exec(select(GuardianLink.student_id)).all())
    quiet = session.exec(select(User).where(User.role == Role.student, User.id.not_in(linked))).first()
    newcomer = make_user(session, school, Role.student, display_name="New Pupil")
    guardian = make_user(session, school, Role.guardian, display_name="New Parent")
    link_guardian(session, guardian, quiet)
    link_guardian(session, guardian, newcomer)
    client.cookies.clear()
    login(client, guardian.username, PASSWORD)
    assert client.get("/family").status_code == 200
    for child in (quiet, newcomer):
        page = client.get(f"/family/children/{child.id}")
        assert page.status_code == 200, page.text
        fragment = client.get(f"/family/children/{child.id}", headers={"HX-Request": "true"})
        assert fragment.status_code == 200
    assert "hasn" in client.get(f"/family/children/{newcomer.id}").text


def test_the_demo_school_year_is_the_one_running_on_the_day():
    from app.services.demo.demo import _this_school_year

    assert _this_school_year(school_id=1, today=date(2026, 12, 7)).name == "2026–27"
    assert _this_school_year(school_id=1, today=date(2027, 3, 1)).name == "2026–27"
    assert _this_school_year(school_id=1, today=date(2027, 8, 20)).name == "2027–28"


def test_the_demo_student_has_signed_credentials_her_family_can_see_and_anyone_can_verify(app, session, client,
                                                                                          settings):
    from app.models import Credential

    seed_demo(session=session, settings=settings, only_if_empty=True, store=storage.uploads(settings))
    maya = session.exec(select(User).where(User.username == "student")).one()
    credentials = session.exec(select(Credential).where(Credential.student_id == maya.id)
                               .order_by(Credential.id)).all()
    assert [c.achievement_name for c in credentials] == ["COM.1 Communicating: Proficient",
                                                         "Finish the bridge challenge"]
    login(client, "student", DEMO_PASSWORD)
    mine = client.get("/credentials").text
    assert all(f"/credentials/{c.public_id}" in mine for c in credentials)
    assert client.get(f"/credentials/{credentials[0].public_id}").status_code == 200
    client.cookies.clear()
    for credential in credentials:
        page = client.get(f"/badges/credentials/{credential.public_id}/verify").text
        assert "The signature is valid" in page and "It is within its validity dates." in page
    login(client, "family", DEMO_PASSWORD)
    family = client.get(f"/family/children/{maya.id}").text
    assert all(f"/badges/credentials/{c.public_id}/verify" in family for c in credentials)

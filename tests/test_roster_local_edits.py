"""The student information system stays the truth, but a roster import that undoes something done in Folio says so,
row by row: in the admin's preview (/admin/roster) and in `folio roster-sync`'s output. What the roster itself did
before (switching someone off, then back on) is not called a change made in Folio."""

from __future__ import annotations

import re
from html import unescape

from sqlmodel import select

from app.models import Role, User
from app.services.roster_import import apply, plan as roster_plan
from app.services.roster_import.csv_reader import read_upload
from tests.factories import login, make_school, make_user
from tests.roster_sets import files_of, import_set, people_of, zip_of
from tests.test_roster_sync import _sync, service  # noqa: F401 (the OneRoster service fixture)


def _preview(client, name: str) -> str:
    response = client.post("/admin/roster", files=[("files", (f"{name}.zip", zip_of(name), "application/zip"))])
    assert response.status_code == 200, response.text
    return unescape(response.text)


def test_the_preview_says_which_rows_undo_a_change_made_in_folio(client, session, settings):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    import_set(session, settings, admin, "v11_lincoln")
    people = people_of(session, school.id)
    switched_off, renamed = people["s1"], people["t1"]
    login(client, admin)
    assert client.post(f"/admin/people/{switched_off.id}/deactivate").status_code == 303
    assert client.post(f"/admin/people/{renamed.id}", data={
        "display_name": "Ms J. Lee", "username": renamed.username, "email": renamed.email or "",
        "role": "teacher"}).status_code == 303
    session.expire_all()
    old_name, new_name = "Ms J. Lee", people_of(session, school.id)["t1"]
    assert new_name.display_name == old_name

    page = _preview(client, "v11_lincoln")
    assert "Changes made in Folio that this import undoes" in page
    section = page.split("Changes made in Folio that this import undoes", 1)[1].split("</section>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", section, re.S)
    assert len(items) == 2
    off = next(i for i in items if switched_off.display_name in i)
    assert re.search(r"switched off in Folio on \w{3} \d{1,2}, \d{4}; the roster turns them back on\.", off), off
    named = next(i for i in items if "renamed" in i)
    assert "renamed “Ms J. Lee” in Folio on" in named and "the roster names them" in named
    assert page.count("Undoes a change made in Folio:") == 2  # and beside the row in the list of changes

    # Confirmed, the roster wins; the next preview has nothing to say (the roster's own changes aren't Folio's).
    plan = roster_plan.plan_import(session=session, school_id=school.id, roster=read_upload(files_of("v11_lincoln")))
    apply.apply_plan(session=session, settings=settings, actor=admin, plan=plan)
    session.commit()
    assert people_of(session, school.id)["s1"].is_active
    assert "Changes made in Folio that this import undoes" not in _preview(client, "v11_lincoln")


def test_someone_the_roster_switched_off_and_back_on_is_not_a_change_made_in_folio(session, settings):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    import_set(session, settings, admin, "v11_lincoln")
    import_set(session, settings, admin, "v11_lincoln_delta")  # the roster switches s2 off
    files = dict(files_of("v11_lincoln_delta"))
    files["users.csv"] = files["users.csv"].replace(b"s2,tobedeleted", b"s2,active")
    plan = roster_plan.plan_import(session=session, school_id=school.id, roster=read_upload(list(files.items())))
    assert [(c.action, c.key) for c in plan.of("person")] == [("reactivate", "s2")]
    assert plan.undoing() == []


def test_roster_sync_prints_each_change_it_makes_to_what_was_done_in_folio(app, settings, session, service, capsys):  # noqa: F811
    from app.services.accounts import people_admin

    school = make_school(session, "Harbour Primary")
    admin = make_user(session, school, Role.admin)
    assert _sync(settings, service) == 0
    session.expire_all()
    student = session.exec(select(User).where(User.school_id == school.id, User.sourced_id == "u-s1")).one()
    people_admin.deactivate(session=session, actor=admin, target=student, address="203.0.113.9")
    session.commit()
    capsys.readouterr()
    assert _sync(settings, service, "--dry-run") == 0
    out = capsys.readouterr().out
    assert re.search(rf"  undoes a change made in Folio: {re.escape(student.display_name)}: switched off in Folio on "
                     r"\w{3} \d{1,2}, \d{4}; the roster turns them back on\.", out), out
    assert _sync(settings, service) == 0
    capsys.readouterr()
    assert _sync(settings, service, "--dry-run") == 0
    assert "undoes a change made in Folio" not in capsys.readouterr().out

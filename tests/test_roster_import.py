"""A school admin imports the roster from a OneRoster 1.1 or 1.2 export: a preview first (what will be created,
updated, switched off, and every row that can't be used), then a job; importing again changes nothing, delta files
apply on top, and nothing is ever duplicated or deleted."""

from __future__ import annotations

import csv
import io
import re

from sqlmodel import func, select

from app.models import (
    AuditEvent, ClassRole, Enrollment, GuardianLink, Job, JobStatus, Role, SchoolClass, SchoolTerm, SetupLink, User,
)
from app.services.jobs import job_runs
from tests.factories import PASSWORD, login, make_class, make_school, make_user
from tests.roster_sets import files_of, import_set, people_of, plan_set, zip_of


def _counts(session) -> dict[str, int]:
    session.expire_all()
    return {model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (User, SchoolClass, SchoolTerm, Enrollment, GuardianLink)}


def _preview(client, *files):
    return client.post("/admin/roster", files=[("files", file) for file in files])


def _confirm(client, page: str):
    upload = re.search(r'name="upload" value="([^"]+)"', page).group(1)
    digest = re.search(r'name="plan_digest" value="([^"]+)"', page).group(1)
    return client.post("/admin/roster/confirm", data={"upload": upload, "plan_digest": digest})


def _run_jobs(app) -> None:
    job_runs.run_pending(engine=app.state.engine, settings=app.state.settings)


def test_an_admin_previews_a_oneroster_zip_confirms_and_the_job_builds_the_school(app, client, session):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    login(client, admin)
    assert 'href="/admin/roster"' in client.get("/admin/people").text
    before = _counts(session)

    response = _preview(client, ("lincoln.zip", zip_of("v11_lincoln", folder="export/"), "application/zip"))
    assert response.status_code == 200, response.text
    page = response.text
    assert "Jordan Lee" in page and "Math 7 - Period 3" in page and "Fall 2026" in page
    # Each row that can't be used, with its file, row number and reason.
    assert "<code>users.csv</code></td><td>6</td>" in page and "“proctor”" in page
    assert "<code>enrollments.csv</code></td><td>7</td>" in page
    assert "demographic" in page
    assert _counts(session) == before  # a preview changes nothing

    response = _confirm(client, page)
    assert response.status_code == 303
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    _run_jobs(app)
    session.expire_all()
    job = session.get(Job, job_id)
    assert job.status is JobStatus.done, job.error

    people = people_of(session, school.id)
    assert {sid: (u.role, u.username) for sid, u in people.items()} == {
        "t1": (Role.teacher, "jlee"), "s1": (Role.student, "asmith"), "s2": (Role.student, "bjones"),
        "p1": (Role.guardian, "csmith")}
    assert people["s1"].email == "avery.smith@students.example.org"
    math = session.exec(select(SchoolClass).where(SchoolClass.sourced_id == "k1")).one()
    english = session.exec(select(SchoolClass).where(SchoolClass.sourced_id == "k2")).one()
    assert (math.name, math.year, math.term) == ("Math 7 - Period 3", "2026–27", "Fall 2026")
    assert english.name == "English 7 ENG7-1"  # no title: the course's title and the class code
    fall = session.get(SchoolTerm, math.term_id)
    assert (fall.school_id, str(fall.starts_on), str(fall.ends_on)) == (school.id, "2026-08-15", "2026-12-20")
    members = {(e.class_id, e.user_id, e.role) for e in session.exec(select(Enrollment))}
    assert members == {(math.id, people["t1"].id, ClassRole.teacher), (math.id, people["s1"].id, ClassRole.student),
                       (math.id, people["s2"].id, ClassRole.student), (english.id, people["t1"].id, ClassRole.teacher),
                       (english.id, people["s1"].id, ClassRole.student)}
    links = {(g, s) for g, s in session.exec(select(GuardianLink.guardian_id, GuardianLink.student_id))}
    assert links == {(people["p1"].id, people["s1"].id), (people["p1"].id, people["s2"].id)}

    # No password was hashed: each new account has a setup link, in the CSV the admin downloads.
    assert all(u.password_hash.startswith("!") for u in people.values())
    assert session.exec(select(func.count()).select_from(SetupLink)).one() == 4
    download = client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200 and download.headers["cache-control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["Name", "Username", "Role", "Email", "Setup link"] and len(rows) == 5
    link = next(row[4] for row in rows if row[1] == "asmith")
    assert link.startswith("http://testserver/setup/")
    # The link works: the student chooses a password and signs in with it.
    token = link.rsplit("/", 1)[1]
    response = client.post(f"/setup/{token}", data={"password": "avery's own password", "confirm": "avery's own password"})
    assert response.status_code in (200, 303)
    assert session.exec(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.event == "account_created")).one() == 4


def test_importing_the_same_set_again_changes_nothing_and_duplicates_nothing(session, settings):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    first, made = import_set(session, settings, admin, "v11_lincoln")
    assert len(made) == 4
    after_first = _counts(session)
    again = plan_set(session, school.id, "v11_lincoln")
    assert again.changes == []
    assert again.unchanged == {"term": 2, "person": 4, "class": 2, "enrolment": 5, "link": 2}
    _plan, made = import_set(session, settings, admin, "v11_lincoln")
    assert made == [] and _counts(session) == after_first


def test_a_delta_applies_on_top_renames_switches_off_and_adds_without_deleting(session, settings):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    import_set(session, settings, admin, "v11_lincoln")
    plan, made = import_set(session, settings, admin, "v11_lincoln_delta")
    assert {(c.kind, c.action, c.key) for c in plan.changes} == {
        ("person", "update", "s1"), ("person", "deactivate", "s2"), ("person", "create", "s3"),
        ("enrolment", "remove", "k1|s2"), ("enrolment", "add", "k1|s3"), ("link", "add", "p1|s3")}
    people = people_of(session, school.id)
    assert people["s1"].display_name == "Avery Smith-Lopez"
    assert not people["s2"].is_active and people["s2"].deactivated_at is not None  # switched off, kept
    assert [a.user.username for a in made] == ["dkim"]
    math = session.exec(select(SchoolClass).where(SchoolClass.sourced_id == "k1")).one()
    in_math = set(session.exec(select(Enrollment.user_id).where(Enrollment.class_id == math.id)))
    assert in_math == {people["t1"].id, people["s1"].id, people["s3"].id}
    # Delta files leave out what didn't change: the other class, its people and the terms are untouched.
    assert session.exec(select(func.count()).select_from(SchoolClass)).one() == 2
    assert plan_set(session, school.id, "v11_lincoln_delta").changes == []


def test_a_full_export_that_marks_a_class_gone_archives_it_and_a_bulk_file_switches_off_who_it_leaves_out(
        session, settings):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    by_hand = make_user(session, school, Role.teacher, username="made.by.hand")
    import_set(session, settings, admin, "v11_lincoln")
    files = dict(files_of("v11_lincoln"))
    users = files["users.csv"].decode().splitlines()
    files["users.csv"] = "\n".join(line for line in users if not line.startswith("s2,")).encode()
    files["classes.csv"] = files["classes.csv"].replace(b"k2,active", b"k2,tobedeleted")
    from app.services.roster_import import apply, plan as roster_plan
    from app.services.roster_import.csv_reader import read_upload

    plan = roster_plan.plan_import(session=session, school_id=school.id, roster=read_upload(list(files.items())))
    # Switched off and archived, never deleted: their class lists are kept as history.
    assert {(c.kind, c.action, c.key) for c in plan.changes} == {("person", "deactivate", "s2"),
                                                                 ("class", "archive", "k2")}
    apply.apply_plan(session=session, settings=settings, actor=admin, plan=plan)
    session.commit()
    session.expire_all()
    assert session.exec(select(SchoolClass.archived).where(SchoolClass.sourced_id == "k2")).one() is True
    assert session.get(User, by_hand.id).is_active  # accounts made in Folio are never touched by a sync
    assert not people_of(session, school.id)["s2"].is_active
    assert session.exec(select(func.count()).select_from(Enrollment)).one() == 5


def test_a_oneroster_1_2_set_takes_roles_from_roles_csv_and_reports_a_person_with_two_roles(session, settings):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    plan, made = import_set(session, settings, admin, "v12_japan_profile")
    assert plan.version == "1.2"
    people = people_of(session, school.id)
    assert {sid: u.role for sid, u in people.items()} == {
        "usr-t1": Role.teacher, "usr-s1": Role.student, "usr-s2": Role.student, "usr-g1": Role.guardian}
    assert people["usr-t1"].username == "tanaka.s"  # an email for a username becomes a valid username
    assert people["usr-s1"].display_name == "太郎 山田"
    [two_roles] = [p for p in plan.problems if p.file == "users.csv"]
    assert two_roles.row == 6 and "teacher (桜小学校); student (桜中学校)" in two_roles.reason
    assert any(p.file == "enrollments.csv" and p.row == 5 for p in plan.problems)
    assert session.exec(select(GuardianLink).where(GuardianLink.guardian_id == people["usr-g1"].id,
                                                   GuardianLink.student_id == people["usr-s1"].id)).first()
    assert any(n.file == "userProfiles.csv" for n in plan.notes)


def test_a_messy_export_is_read_and_each_unusable_row_is_reported(session, settings):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    plan, made = import_set(session, settings, admin, "messy_district")
    problems = {(p.file, p.row) for p in plan.problems}
    assert problems == {("users.csv", 5), ("users.csv", 6), ("users.csv", 7), ("users.csv", 10),
                        ("enrollments.csv", 6), ("enrollments.csv", 7), ("enrollments.csv", 8)}
    people = people_of(session, school.id)
    assert people["U-T1"].username == "m.okafor" and people["U-T1"].email == "m.okafor@district.example.org"
    assert people["U-S2"].display_name == "Zoë Ng"
    assert not people["U-S5"].is_active  # enabledUser false: made, but switched off (and given no link)
    assert "left.early" not in [a.user.username for a in made]
    term = session.exec(select(SchoolTerm).where(SchoolTerm.school_id == school.id)).one()
    assert (str(term.starts_on), str(term.ends_on), term.school_year) == ("2026-09-01", "2027-07-16", "2026–27")
    assert plan_set(session, school.id, "messy_district").changes == []


def test_existing_accounts_are_adopted_and_taken_usernames_get_a_number(session, settings):
    school, elsewhere = make_school(session), make_school(session)
    admin = make_user(session, school, Role.admin)
    jordan = make_user(session, school, Role.teacher, username="jlee", display_name="J. Lee")
    make_user(session, elsewhere, Role.student, username="asmith")
    plan, made = import_set(session, settings, admin, "v11_lincoln")
    people = people_of(session, school.id)
    assert people["t1"].id == jordan.id and people["t1"].display_name == "Jordan Lee"  # adopted, not duplicated
    assert people["s1"].username == "asmith2"
    assert any("asmith2" in n.reason for n in plan.notes)
    assert jordan.id not in [a.user.id for a in made]


def test_bad_uploads_are_refused_beside_the_field_and_nothing_changes(client, session):
    school = make_school(session)
    login(client, make_user(session, school, Role.admin))
    before = _counts(session)
    response = client.post("/admin/roster", data={})
    assert response.status_code == 422 and 'id="files-error"' in response.text
    response = _preview(client, ("notes.txt", b"hello", "text/plain"))
    assert response.status_code == 422 and "No OneRoster files" in response.text
    response = _preview(client, ("broken.zip", b"PK\x03\x04broken", "application/zip"))
    assert response.status_code == 422 and "a ZIP archive Folio can open" in response.text
    assert _counts(session) == before


def test_only_the_admin_who_uploaded_can_confirm_and_teachers_are_refused(app, client, new_client, session):
    school, other_school = make_school(session), make_school(session)
    admin = make_user(session, school, Role.admin)
    teacher = make_user(session, school, Role.teacher)
    foreign = make_user(session, other_school, Role.admin)
    login(client, admin)
    page = _preview(client, ("users.csv", files_of("v11_lincoln")[-1][1], "text/csv")).text
    upload = re.search(r'name="upload" value="([^"]+)"', page).group(1)
    digest = re.search(r'name="plan_digest" value="([^"]+)"', page).group(1)
    before = _counts(session)

    other = new_client()
    login(other, foreign)
    assert other.post("/admin/roster/confirm", data={"upload": upload, "plan_digest": digest}).status_code == 404
    staff = new_client()
    login(staff, teacher)
    assert staff.get("/admin/roster").status_code == 403
    assert staff.post("/admin/roster/confirm", data={"upload": upload, "plan_digest": digest}).status_code == 403
    assert client.post("/admin/roster/confirm", data={"upload": "roster-1-../../x.zip", "plan_digest": digest}
                       ).status_code == 404
    _run_jobs(app)
    assert _counts(session) == before
    job_id = int(_confirm(client, page).headers["location"].rsplit("/", 1)[1])
    assert other.get(f"/jobs/{job_id}").status_code == 404


def test_confirming_a_stale_preview_shows_the_new_plan_instead(client, session):
    school = make_school(session)
    login(client, make_user(session, school, Role.admin))
    page = _preview(client, ("lincoln.zip", zip_of("v11_lincoln"), "application/zip")).text
    make_user(session, make_school(session), Role.student, username="bjones")  # another school took a username
    response = _confirm(client, page)
    assert response.status_code == 409 and "changed since this preview" in response.text
    assert "bjones2" in response.text
    assert session.exec(select(func.count()).select_from(Job)).one() == 0


def test_a_class_made_by_hand_and_its_students_are_left_alone(session, settings):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    student = make_user(session, school, Role.student)
    by_hand = make_class(session, school, students=[student], name="Art club")
    import_set(session, settings, admin, "v11_lincoln")
    session.expire_all()
    assert not session.get(SchoolClass, by_hand.id).archived
    assert session.exec(select(Enrollment).where(Enrollment.class_id == by_hand.id)).one().user_id == student.id
    assert PASSWORD  # the factory's accounts keep their passwords


def test_a_preview_never_confirmed_is_swept_away_after_a_day(app, client, session):
    from datetime import UTC, datetime, timedelta

    from app import storage
    from app.services.operations.housekeeping import sweep

    settings = app.state.settings
    login(client, make_user(session, make_school(session), Role.admin))
    page = _preview(client, ("lincoln.zip", zip_of("v11_lincoln"), "application/zip")).text
    upload = re.search(r'name="upload" value="([^"]+)"', page).group(1)
    store = storage.job_files(settings)
    sweep(settings=settings, now=datetime.now(UTC) + timedelta(hours=20))
    assert store.exists(f"incoming/{upload}")
    sweep(settings=settings, now=datetime.now(UTC) + timedelta(days=2))
    assert not store.exists(f"incoming/{upload}")
    assert _confirm(client, page).status_code == 404


def test_previewing_a_set_already_imported_offers_nothing_to_confirm(client, session, settings):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    import_set(session, settings, admin, "v11_lincoln")
    login(client, admin)
    page = _preview(client, ("lincoln.zip", zip_of("v11_lincoln"), "application/zip")).text
    assert "there is nothing to import" in page and 'action="/admin/roster/confirm"' not in page
    assert "<code>users.csv</code></td><td>6</td>" in page  # the unusable rows are still listed


def test_the_reader_takes_real_exports_as_they_come():
    from datetime import date

    from app.services.roster_import.csv_reader import parse_date, read_upload, split_list

    assert split_list('09,10') == ["09", "10"] and split_list('["10", "11"]') == ["10", "11"] and split_list(" ") == []
    assert parse_date("01/09/2026") == (date(2026, 9, 1), True)  # day first
    assert parse_date("1.9.2026") == (date(2026, 9, 1), True)
    assert parse_date("2026-09-01T00:00:00.000Z") == (date(2026, 9, 1), True)
    assert parse_date("13/13/2026") == (None, False) and parse_date("") == (None, True)
    # No manifest, a BOM, CRLF, headers in another case and no role column: a 1.2 users.csv, roles from roles.csv.
    users = "\ufeffSOURCEDID,Status,GivenName,FamilyName,Username\r\nu1,,Ana,Ruiz,ana\r\n".encode()
    roles = b"sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId\r\n" \
            b"r1,active,,u1,primary,student,,,o1\r\n"
    roster = read_upload([("Users.CSV", users), ("roles.csv", roles), ("lineItems.csv", b"sourcedId\n")])
    assert roster.version == "1.2" and not roster.has_manifest and not roster.is_bulk("users")
    [row] = roster.rows("users")
    assert (row.get("sourcedId"), row.get("givenName"), row.number) == ("u1", "Ana", 2)
    assert roster.ignored_files == ["lineItems.csv"]


def test_someone_switched_back_on_is_put_back_in_their_classes(session, settings):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    import_set(session, settings, admin, "v11_lincoln")
    import_set(session, settings, admin, "v11_lincoln_delta")  # Blake (s2) leaves, and leaves Math 7
    from app.services.roster_import import apply, plan as roster_plan
    from app.services.roster_import.csv_reader import read_upload

    files = dict(files_of("v11_lincoln_delta"))
    files["users.csv"] = files["users.csv"].replace(b"s2,tobedeleted", b"s2,active")
    files["enrollments.csv"] = files["enrollments.csv"].replace(b"e3,tobedeleted", b"e3,active")
    plan = roster_plan.plan_import(session=session, school_id=school.id, roster=read_upload(list(files.items())))
    assert {(c.kind, c.action, c.key) for c in plan.changes} == {("person", "reactivate", "s2"),
                                                                 ("enrolment", "add", "k1|s2")}
    apply.apply_plan(session=session, settings=settings, actor=admin, plan=plan)
    session.commit()
    blake = people_of(session, school.id)["s2"]
    assert blake.is_active and blake.deactivated_at is None
    math = session.exec(select(SchoolClass).where(SchoolClass.sourced_id == "k1")).one()
    assert session.exec(select(Enrollment).where(Enrollment.class_id == math.id, Enrollment.user_id == blake.id)).one()


def test_a_1_1_person_on_two_rows_as_teacher_and_student_is_reported_not_guessed(session):
    from app.services.roster_import import plan as roster_plan
    from app.services.roster_import.csv_reader import read_upload

    school = make_school(session)
    users = (b"sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,familyName\n"
             b"u9,active,,true,north,teacher,sam.t,Sam,Taylor\n"
             b"u9,active,,true,south,student,sam.t,Sam,Taylor\n")
    orgs = b"sourcedId,status,dateLastModified,name,type\nnorth,active,,North High,school\nsouth,active,,South College,school\n"
    plan = roster_plan.plan_import(session=session, school_id=school.id,
                                   roster=read_upload([("users.csv", users), ("orgs.csv", orgs)]))
    assert plan.changes == []
    reasons = {p.row: p.reason for p in plan.problems}
    assert "teacher (North High); student (South College)" in reasons[2] and "earlier row" in reasons[3]

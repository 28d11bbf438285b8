"""Adding students to a class: one at a time, or many from CSV lines (pasted or uploaded).

Everything is checked before anything is created: one bad row and no account is made.
For an admin, a username that already belongs to a student of the same school adds that student instead. A teacher
can't: the student would be theirs (their work to read, their password to reset) without having agreed, so the
student joins with the class's code themself.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.access import relationships
from app.i18n import _
from app.models import AuditEventKind, EnrolledVia, Role, SchoolClass, User
from app.services.accounts import accounts
from app.services.accounts.accounts import MAX_NAME_LENGTH, USERNAME_PATTERN
from app.services.accounts import audit
from app.services.classes.classes import add_students
from app.services.forms import FormInput

MAX_CSV_BYTES = 1024 * 1024
MAX_ROWS = 500
HEADER = ["name", "username"]


@dataclass
class RosterRow:
    number: int  # as a spreadsheet numbers its lines (a header line is row 1)
    display_name: str
    username: str
    email: str | None = None
    problem: str | None = None  # a line that isn't "name,username"


@dataclass
class RosterPlan(FormInput):
    """What adding these rows would do, or why it can't."""

    new_rows: list[RosterRow] = field(default_factory=list)
    existing: list[User] = field(default_factory=list)  # students of the school, joining this class
    problems: list[str] = field(default_factory=list)  # for the bulk form, one sentence per row problem
    # (`errors`, from FormInput: for the one-student form, by field)


@dataclass
class NewAccount:
    user: User
    password: str


# --- reading the input -----------------------------------------------------------------------------


def decode_upload(data: bytes) -> tuple[str, str | None]:
    """The text of an uploaded CSV file (UTF-8, with or without a byte-order mark), or what is wrong."""
    if len(data) > MAX_CSV_BYTES:
        return "", _("That file is %(size)s KB; the limit is 1 MB (about %(max)s students).",
                     size=len(data) // 1024, max=MAX_ROWS)
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return "", _("That file isn't UTF-8 text. In your spreadsheet, save it as “CSV UTF-8” and try again.")


@dataclass(kw_only=True)
class RosterLines(FormInput):
    """Pasted or uploaded lines read as rows; `errors["lines"]` when the whole text can't be used."""

    rows: list[RosterRow] = field(default_factory=list)


def parse_lines(*, lines: str) -> RosterLines:
    """Rows of `name,username` (a first line "name,username" is skipped), or why the whole text can't be used.

    A line of the wrong shape becomes a row with a problem, so check_rows reports every problem in order."""
    parsed = RosterLines()
    try:
        records = list(csv.reader(io.StringIO(lines.lstrip("\ufeff")), skipinitialspace=True))
    except csv.Error:
        return RosterLines(errors={"lines": _("Those lines can't be read as CSV; check the quotation marks.")})
    for number, record in enumerate(records, start=1):
        cells = [cell.strip() for cell in record]
        if not any(cells):
            continue
        if number == 1 and [cell.lower() for cell in cells] == HEADER:
            continue
        if len(parsed.rows) >= MAX_ROWS:
            return RosterLines(errors={"lines": _("Add at most %(max)s students at a time.", max=MAX_ROWS)})
        if len(cells) != 2:
            problem = _("Row %(row)s: write a name and a username, separated by a comma.", row=number)
            parsed.rows.append(RosterRow(number=number, display_name="", username="", problem=problem))
            continue
        parsed.rows.append(RosterRow(number=number, display_name=" ".join(cells[0].split()), username=cells[1].lower()))
    if not parsed.rows:
        parsed.errors["lines"] = _("There are no students in it: write one per line, as name,username.")
    return parsed


# --- checking --------------------------------------------------------------------------------------


def _name_problem(row: RosterRow, bulk: bool) -> str | None:
    if not row.display_name:
        return _("Row %(row)s: the name is empty.", row=row.number) if bulk else _("Write the student's name.")
    if len(row.display_name) > MAX_NAME_LENGTH:
        return _("Row %(row)s: the name is longer than %(max)s characters.", row=row.number, max=MAX_NAME_LENGTH) \
            if bulk else _("Keep the name under %(max)s characters.", max=MAX_NAME_LENGTH)
    return None


def _username_problem(row: RosterRow, bulk: bool) -> str | None:
    if USERNAME_PATTERN.match(row.username):
        return None
    if bulk:
        return _("Row %(row)s: the username “%(username)s” can't be used: use 3 to 40 letters, digits, dots, "
                 "dashes or underscores.", row=row.number, username=row.username)
    return _("Use 3 to 40 letters, digits, dots, dashes or underscores.")


def _taken_problem(row: RosterRow, bulk: bool) -> str:
    if bulk:
        return _("Row %(row)s: the username “%(username)s” is taken.", row=row.number, username=row.username)
    return _("The username “%(username)s” is taken.", username=row.username)


def _taken_for_teacher(row: RosterRow, bulk: bool, join_code: str) -> str:
    # Worded the same whoever holds the username, so it tells a teacher nothing about accounts they can't see.
    if bulk:
        return _("Row %(row)s: the username “%(username)s” is taken. If it is a student already at your school, they "
                 "can join this class themselves with its code, %(code)s, or an admin can add them.",
                 row=row.number, username=row.username, code=join_code)
    return _("The username “%(username)s” is taken. If it is a student already at your school, they can join this "
             "class themselves with its code, %(code)s, or an admin can add them.", username=row.username, code=join_code)


def check_rows(
    *, session: Session, school_class: SchoolClass, rows: list[RosterRow], may_add_existing: bool, bulk: bool = True
) -> RosterPlan:
    """Check every row against the rules and the whole system's usernames (two queries in all).

    `may_add_existing` (admins): a username of a student of the school adds that student."""
    plan = RosterPlan()
    usernames = {row.username for row in rows if row.username}
    known = {u.username: u for u in session.exec(select(User).where(User.username.in_(usernames))).all()} if usernames else {}
    in_class = {user_id for user_id, _role in session.exec(relationships.members_of_class(school_class.id)).all()}
    seen: dict[str, int] = {}

    def problem(key: str, message: str | None) -> None:
        if message:
            plan.problems.append(message)
            plan.errors.setdefault(key, message)

    for row in rows:
        if row.problem:
            problem("form", row.problem)
            continue
        existing = known.get(row.username)
        if row.username in seen:
            problem("username", _("Row %(row)s: the username “%(username)s” is also on row %(other)s.",
                                  row=row.number, username=row.username, other=seen[row.username]))
            continue
        seen[row.username] = row.number
        if existing is not None and existing.id in in_class and existing.role is Role.student:
            problem("username", _("Row %(row)s: %(name)s (%(username)s) is already in this class.",
                                  row=row.number, name=existing.display_name, username=existing.username) if bulk
                    else _("%(name)s (%(username)s) is already in this class.",
                           name=existing.display_name, username=existing.username))
            continue
        if existing is not None and not may_add_existing:
            problem("username", _taken_for_teacher(row, bulk, school_class.join_code))
            continue
        if (existing is not None and existing.role is Role.student and existing.school_id == school_class.school_id
                and existing.is_active):
            # A student of this school, added by an admin (their name and password stay as they are); a switched-off
            # one is not (switch the account on first).
            plan.existing.append(existing)
            continue
        problem("display_name", _name_problem(row, bulk))
        username_problem = _username_problem(row, bulk)
        problem("username", username_problem)
        if existing is not None and not username_problem:
            problem("username", _taken_problem(row, bulk))
        if row.email:
            email_problem = None
            if not accounts.looks_like_email(row.email):
                email_problem = _("That doesn't look like an email address.")
            elif session.exec(select(User.id).where(User.email == row.email)).first() is not None:
                email_problem = _("Another account uses that email address.")
            problem("email", email_problem)
        plan.new_rows.append(row)
    return plan


def check_one(
    *, session: Session, school_class: SchoolClass, display_name: str, username: str, may_add_existing: bool,
    email: str = "",
) -> RosterPlan:
    """The one-student form: a new student, or (admins, by username) a student already at the school."""
    row = RosterRow(number=1, display_name=" ".join(display_name.split()), username=username.strip().lower(),
                    email=accounts.normalise_identifier(email) or None)
    if not row.username:
        plan = RosterPlan()
        plan.errors["username"] = _("Choose a username the student will sign in with.")
        return plan
    return check_rows(session=session, school_class=school_class, rows=[row], may_add_existing=may_add_existing,
                      bulk=False)


# --- adding ----------------------------------------------------------------------------------------


def add_to_class(
    *, session: Session, school_class: SchoolClass, plan: RosterPlan, actor: User, address: str | None, bulk: bool,
    must_change_password: bool = False,
) -> list[NewAccount]:
    """Create the new students (each with a generated password) and enrol everyone, all recorded in the audit log;
    only for a plan without problems. Students already at the school (an admin's plan) and their teachers are told."""
    assert not plan.problems and not plan.errors, "check the rows first"
    assert actor.role is Role.admin or not plan.existing, "only an admin adds a student who already has an account"
    created: list[NewAccount] = []
    for row in plan.new_rows:
        password = accounts.generate_password()
        user = accounts.create_user(session=session, school_id=school_class.school_id, role=Role.student,
                                    username=row.username, display_name=row.display_name, password=password,
                                    email=row.email)
        user.must_change_password = must_change_password
        created.append(NewAccount(user=user, password=password))
    session.flush()
    for account in created:
        audit.record(session=session, event=AuditEventKind.account_created, actor=actor, subject=account.user,
                     object_description=school_class.name, address=address,
                     details={"role": Role.student.value, "class_id": school_class.id})
    add_students(session=session, school_class=school_class, students=[account.user for account in created],
                 via=EnrolledVia.roster if bulk else EnrolledVia.teacher_created, actor=actor, address=address,
                 tell=False)
    add_students(session=session, school_class=school_class, students=plan.existing, via=EnrolledVia.admin,
                 actor=actor, address=address, tell=True)
    return created


def printable_accounts(
    *, session: Session, school_class: SchoolClass, usernames: list[str], passwords: list[str]
) -> list[NewAccount]:
    """Login cards for students of this class, from the (username, password) pairs a result page posts back."""
    pairs = dict(zip((u.strip().lower() for u in usernames[:MAX_ROWS]), passwords[:MAX_ROWS]))
    if not pairs:
        return []
    students = session.exec(
        select(User)
        .where(User.id.in_(relationships.students_in_class(school_class.id)), User.username.in_(pairs))
        .order_by(User.display_name, User.id)
    ).all()
    return [NewAccount(user=student, password=pairs[student.username]) for student in students]

"""Competency frameworks for admins: the BC seed, editing, nesting, reordering, archiving, deleting (or not)."""

from datetime import date

import pytest
from sqlmodel import select

from app.models import (
    Artefact,
    ArtefactCompetency,
    ArtefactKind,
    ClassFramework,
    Competency,
    CompetencyRating,
    Framework,
    ProficiencyLevel,
    RatingSource,
    Role,
)
from app.services.competencies.bc_competencies import BC_FRAMEWORK_NAME, seed_bc_framework
from app.services.competencies.competency_picker import allowed_ids, available_competencies
from tests.factories import login, make_class, make_framework, make_school, make_user

BC_CODES = {"COM", "COM.1", "COM.2", "THK", "THK.1", "THK.2", "PS", "PS.1", "PS.2", "PS.3"}


def _codes(session, framework_id):
    return {c.code: c for c in session.exec(select(Competency).where(Competency.framework_id == framework_id))}


def _levels(session, framework_id):
    statement = select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework_id).order_by(ProficiencyLevel.position)
    return list(session.exec(statement))


def _admin(client, session, school=None):
    school = school or make_school(session)
    admin = make_user(session, school, Role.admin)
    login(client, admin)
    return school, admin


def test_bc_seed_creates_the_core_competencies_once_per_school(session):
    school, other = make_school(session), make_school(session)
    framework = seed_bc_framework(session=session, school=school)
    session.commit()
    competencies = _codes(session, framework.id)
    assert set(competencies) == BC_CODES
    assert competencies["COM.1"].name == "Communicating" and competencies["COM.1"].parent_id == competencies["COM"].id
    assert competencies["THK.2"].name == "Critical and reflective thinking"
    assert competencies["PS.3"].parent_id == competencies["PS"].id and competencies["PS"].parent_id is None
    assert all(c.description.startswith("I ") for c in competencies.values())
    assert [level.label for level in _levels(session, framework.id)] == ["Emerging", "Developing", "Proficient", "Extending"]
    assert [level.position for level in _levels(session, framework.id)] == [1, 2, 3, 4]
    # Idempotent: the same framework back, nothing added; another school gets its own.
    assert seed_bc_framework(session=session, school=school).id == framework.id
    session.commit()
    assert len(session.exec(select(Framework).where(Framework.school_id == school.id)).all()) == 1
    assert len(_codes(session, framework.id)) == 10 and len(_levels(session, framework.id)) == 4
    assert seed_bc_framework(session=session, school=other).id != framework.id


def test_admin_adds_the_bc_framework_from_the_page(client, session):
    school, _admin_user = _admin(client, session)
    page = client.get("/admin/frameworks")
    assert page.status_code == 200 and "Add the BC Core Competencies" in page.text
    response = client.post("/admin/frameworks/bc")
    assert response.status_code == 303
    framework = session.exec(select(Framework).where(Framework.school_id == school.id)).one()
    assert response.headers["location"] == f"/admin/frameworks/{framework.id}"
    edit = client.get(response.headers["location"])
    assert edit.status_code == 200 and BC_FRAMEWORK_NAME in edit.text and "Critical and reflective thinking" in edit.text
    assert "Add the BC Core Competencies" not in client.get("/admin/frameworks").text
    again = client.post("/admin/frameworks/bc")
    assert again.headers["location"] == f"/admin/frameworks/{framework.id}"
    assert "already has the BC Core Competencies" in client.get(again.headers["location"]).text
    assert len(session.exec(select(Framework).where(Framework.school_id == school.id)).all()) == 1


def test_admin_creates_a_framework_with_nested_competencies_and_a_scale(client, session):
    school, _admin_user = _admin(client, session)
    missing = client.post("/admin/frameworks", data={"name": "  ", "description": "x"})
    assert missing.status_code == 422 and "Give the framework a name" in missing.text
    response = client.post("/admin/frameworks", data={"name": "Science skills", "description": "Lab work", "default_scale": "true"})
    assert response.status_code == 303
    framework = session.exec(select(Framework).where(Framework.name == "Science skills")).one()
    assert framework.school_id == school.id
    assert [level.label for level in _levels(session, framework.id)] == ["Emerging", "Developing", "Proficient", "Extending"]
    duplicate = client.post("/admin/frameworks", data={"name": "science SKILLS"})
    assert duplicate.status_code == 422 and "already has a framework called" in duplicate.text

    base = f"/admin/frameworks/{framework.id}"
    assert client.post(f"{base}/competencies", data={"competency_code": "INQ", "competency_name": "Inquiry"}).status_code == 303
    inquiry = _codes(session, framework.id)["INQ"]
    nested = client.post(f"{base}/competencies", data={
        "competency_code": "INQ.1", "competency_name": "Questioning", "competency_description": "I can ask testable questions.",
        "parent_id": str(inquiry.id)})
    assert nested.status_code == 303
    assert _codes(session, framework.id)["INQ.1"].parent_id == inquiry.id

    taken = client.post(f"{base}/competencies", data={"competency_code": "inq.1", "competency_name": "Again"})
    assert taken.status_code == 422
    assert "inq.1 is already used in this framework" in taken.text and 'id="competency_code-error"' in taken.text
    no_name = client.post(f"{base}/competencies", data={"competency_code": "X"})
    assert no_name.status_code == 422 and 'id="competency_name-error"' in no_name.text
    assert len(_codes(session, framework.id)) == 2

    renamed = client.post(f"{base}", data={"name": "Scientific skills", "description": "Labs and fieldwork"})
    assert renamed.status_code == 303
    session.refresh(framework)
    assert framework.name == "Scientific skills"

    assert client.post(f"{base}/levels", data={"level_label": "Expert", "level_descriptor": "I teach others."}).status_code == 303
    assert [level.label for level in _levels(session, framework.id)][-1] == "Expert"
    same = client.post(f"{base}/levels", data={"level_label": "expert"})
    assert same.status_code == 422 and "already has a level called" in same.text
    developing = _levels(session, framework.id)[1]
    edited = client.post(f"{base}/levels/{developing.id}", data={"level_label": "Growing", "level_descriptor": "With some help."})
    assert edited.status_code == 303
    session.refresh(developing)
    assert (developing.label, developing.descriptor) == ("Growing", "With some help.")


def test_a_competency_cannot_be_nested_inside_itself(client, session):
    school, _admin_user = _admin(client, session)
    framework = make_framework(session, school)
    codes = _codes(session, framework.id)
    base = f"/admin/frameworks/{framework.id}/competencies/{codes['COM'].id}"
    form = client.get(base)
    assert form.status_code == 200 and f'value="{codes["COM.1"].id}"' not in form.text
    for parent in (codes["COM"], codes["COM.1"]):
        response = client.post(base, data={"competency_code": "COM", "competency_name": "Communication", "parent_id": str(parent.id)})
        assert response.status_code == 422 and "can&#39;t sit inside itself" in response.text
    moved = client.post(base, data={"competency_code": "COM", "competency_name": "Communication", "parent_id": str(codes["THK"].id)})
    assert moved.status_code == 303
    session.refresh(codes["COM"])
    assert codes["COM"].parent_id == codes["THK"].id


def test_reorder_competencies_and_levels(client, session):
    school, _admin_user = _admin(client, session)
    framework = make_framework(session, school, competencies=(
        ("A", "Alpha", None), ("B", "Bravo", None), ("C", "Charlie", None), ("B.1", "Bravo one", "B")))
    base = f"/admin/frameworks/{framework.id}"

    def top_level_order():
        session.expire_all()
        rows = [c for c in _codes(session, framework.id).values() if c.parent_id is None]
        return [c.code for c in sorted(rows, key=lambda c: c.position)]

    codes = _codes(session, framework.id)
    assert client.post(f"{base}/competencies/{codes['C'].id}/move", data={"direction": "up"}).status_code == 303
    assert top_level_order() == ["A", "C", "B"]
    assert client.post(f"{base}/competencies/{codes['A'].id}/move", data={"direction": "down"}).status_code == 303
    assert top_level_order() == ["C", "A", "B"]
    # Already first: nothing changes.
    assert client.post(f"{base}/competencies/{codes['C'].id}/move", data={"direction": "up"}).status_code == 303
    assert top_level_order() == ["C", "A", "B"]
    assert client.post(f"{base}/competencies/{codes['C'].id}/move", data={"direction": "sideways"}).status_code == 400
    page = client.get(base).text
    assert page.index("Charlie") < page.index("Alpha") < page.index("Bravo") < page.index("Bravo one")

    levels = _levels(session, framework.id)
    assert client.post(f"{base}/levels/{levels[3].id}/move", data={"direction": "up"}).status_code == 303
    session.expire_all()
    assert [level.label for level in _levels(session, framework.id)] == ["Emerging", "Developing", "Extending", "Proficient"]
    assert [level.position for level in _levels(session, framework.id)] == [1, 2, 3, 4]


def _rate(session, student, competency, level):
    rating = CompetencyRating(student_id=student.id, competency_id=competency.id, level_id=level.id,
                              rated_by_id=student.id, source=RatingSource.self, reason="Because")
    session.add(rating)
    session.commit()
    return rating


def test_deleting_a_competency_with_evidence_is_refused(client, session):
    school, _admin_user = _admin(client, session)
    student = make_user(session, school)
    framework = make_framework(session, school)
    codes = _codes(session, framework.id)
    artefact = Artefact(owner_id=student.id, kind=ArtefactKind.note, title="My speech", body="…", occurred_on=date(2026, 3, 1))
    session.add(artefact)
    session.flush()
    session.add(ArtefactCompetency(artefact_id=artefact.id, competency_id=codes["COM.1"].id))
    session.commit()
    base = f"/admin/frameworks/{framework.id}/competencies"

    confirm = client.get(f"{base}/{codes['COM.1'].id}/delete")
    assert confirm.status_code == 200
    assert "COM.1 can&#39;t be deleted" in confirm.text and "1 piece of evidence" in confirm.text
    assert "Archive it instead" in confirm.text
    for competency in (codes["COM.1"], codes["COM"]):  # the parent: its subtree holds the evidence
        refused = client.post(f"{base}/{competency.id}/delete")
        assert refused.status_code == 422 and "Archive it instead" in refused.text
    session.expire_all()
    assert set(_codes(session, framework.id)) == {"COM", "COM.1", "THK"}
    assert session.get(ArtefactCompetency, (artefact.id, codes["COM.1"].id)) is not None

    _rate(session, student, codes["THK"], _levels(session, framework.id)[0])
    assert "1 rating" in client.post(f"{base}/{codes['THK'].id}/delete").text
    assert "THK" in _codes(session, framework.id)


def test_deleting_an_unused_competency_takes_its_sub_competencies(client, session):
    school, _admin_user = _admin(client, session)
    framework = make_framework(session, school)
    codes = _codes(session, framework.id)
    base = f"/admin/frameworks/{framework.id}/competencies"
    confirm = client.get(f"{base}/{codes['COM'].id}/delete")
    assert "Its 1 sub-competency will be deleted too." in confirm.text
    response = client.post(f"{base}/{codes['COM'].id}/delete")
    assert response.status_code == 303 and response.headers["location"] == f"/admin/frameworks/{framework.id}"
    session.expire_all()
    assert set(_codes(session, framework.id)) == {"THK"}


def test_archiving_hides_a_competency_from_the_picker_and_keeps_history(client, session):
    school, _admin_user = _admin(client, session)
    student = make_user(session, school)
    framework = make_framework(session, school)
    codes = _codes(session, framework.id)
    rating = _rate(session, student, codes["COM.1"], _levels(session, framework.id)[1])
    assert codes["COM.1"].id in allowed_ids(available_competencies(session=session, student=student))

    response = client.post(f"/admin/frameworks/{framework.id}/competencies/{codes['COM.1'].id}/archive", data={"archived": "true"})
    assert response.status_code == 303
    session.expire_all()
    assert codes["COM.1"].id not in allowed_ids(available_competencies(session=session, student=student))
    assert codes["COM"].id in allowed_ids(available_competencies(session=session, student=student))
    assert session.get(CompetencyRating, rating.id) is not None
    assert "Restore" in client.get(f"/admin/frameworks/{framework.id}").text

    client.post(f"/admin/frameworks/{framework.id}/competencies/{codes['COM.1'].id}/archive", data={"archived": "false"})
    session.expire_all()
    assert codes["COM.1"].id in allowed_ids(available_competencies(session=session, student=student))


def test_deleting_a_level_with_ratings_is_refused_and_an_unused_one_closes_the_gap(client, session):
    school, _admin_user = _admin(client, session)
    student = make_user(session, school)
    framework = make_framework(session, school)
    levels = _levels(session, framework.id)
    _rate(session, student, _codes(session, framework.id)["COM"], levels[1])
    base = f"/admin/frameworks/{framework.id}/levels"
    assert "1 rating uses it" in client.get(f"{base}/{levels[1].id}/delete").text
    refused = client.post(f"{base}/{levels[1].id}/delete")
    assert refused.status_code == 422 and "Rename it" in refused.text
    assert client.post(f"{base}/{levels[0].id}/delete").status_code == 303
    session.expire_all()
    remaining = _levels(session, framework.id)
    assert [(level.label, level.position) for level in remaining] == [("Developing", 1), ("Proficient", 2), ("Extending", 3)]


def test_a_used_framework_is_archived_not_deleted(client, session):
    school, _admin_user = _admin(client, session)
    student = make_user(session, school)
    used, unused = make_framework(session, school, name="Used"), make_framework(session, school, name="Unused")
    _rate(session, student, _codes(session, used.id)["COM"], _levels(session, used.id)[0])
    refused = client.post(f"/admin/frameworks/{used.id}/delete")
    assert refused.status_code == 422 and "Archive it instead" in refused.text
    assert client.post(f"/admin/frameworks/{used.id}/archive", data={"archived": "true"}).status_code == 303
    session.expire_all()
    assert session.get(Framework, used.id).archived
    assert [group.framework.name for group in available_competencies(session=session, student=student)] == ["Unused"]
    unused_id = unused.id
    assert client.post(f"/admin/frameworks/{unused_id}/delete").status_code == 303
    session.expire_all()
    assert session.exec(select(Framework.id).where(Framework.id == unused_id)).first() is None
    assert session.exec(select(Competency).where(Competency.framework_id == unused_id)).all() == []


def test_admin_ticks_the_classes_that_use_a_framework(client, session):
    school, _admin_user = _admin(client, session)
    maple, cedar = make_class(session, school, name="Maple"), make_class(session, school, name="Cedar")
    foreign_class = make_class(session, make_school(session), name="Elsewhere")
    framework = make_framework(session, school)
    page = client.get(f"/admin/frameworks/{framework.id}").text
    assert "Maple" in page and "Cedar" in page and "Elsewhere" not in page

    def used_by():
        return set(session.exec(select(ClassFramework.class_id).where(ClassFramework.framework_id == framework.id)))

    response = client.post(f"/admin/frameworks/{framework.id}/classes",
                           data={"class_ids": [str(maple.id), str(foreign_class.id)]})
    assert response.status_code == 303
    assert used_by() == {maple.id}
    client.post(f"/admin/frameworks/{framework.id}/classes", data={"class_ids": [str(cedar.id)]})
    assert used_by() == {cedar.id}
    client.post(f"/admin/frameworks/{framework.id}/classes", data={})
    assert used_by() == set()


def test_admins_see_only_their_own_schools_frameworks(client, session):
    riverside, hillside = make_school(session, "Riverside"), make_school(session, "Hillside")
    ours = make_framework(session, riverside, name="Riverside skills")
    theirs = make_framework(session, hillside, name="Hillside skills")
    _admin(client, session, riverside)
    listing = client.get("/admin/frameworks").text
    assert "Riverside skills" in listing and "Hillside skills" not in listing
    assert client.get(f"/admin/frameworks/{ours.id}").status_code == 200
    competency = _codes(session, theirs.id)["COM"]
    level = _levels(session, theirs.id)[0]
    base = f"/admin/frameworks/{theirs.id}"
    for path in (base, f"{base}/delete", f"{base}/competencies/{competency.id}", f"{base}/competencies/{competency.id}/delete",
                 f"{base}/levels/{level.id}", f"{base}/levels/{level.id}/delete", "/admin/frameworks/999999"):
        assert client.get(path).status_code == 404, path
    posts = {
        base: {"name": "Hijacked"}, f"{base}/archive": {"archived": "true"}, f"{base}/delete": {},
        f"{base}/classes": {}, f"{base}/competencies": {"competency_code": "X", "competency_name": "X"},
        f"{base}/competencies/{competency.id}": {"competency_code": "X", "competency_name": "X"},
        f"{base}/competencies/{competency.id}/move": {"direction": "down"},
        f"{base}/competencies/{competency.id}/archive": {"archived": "true"},
        f"{base}/competencies/{competency.id}/delete": {},
        f"{base}/levels": {"level_label": "X"}, f"{base}/levels/{level.id}": {"level_label": "X"},
        f"{base}/levels/{level.id}/move": {"direction": "down"}, f"{base}/levels/{level.id}/delete": {},
    }
    for path, data in posts.items():
        assert client.post(path, data=data).status_code == 404, path
    # A competency of another school's framework can't be reached through our own framework either.
    assert client.get(f"/admin/frameworks/{ours.id}/competencies/{competency.id}").status_code == 404
    session.expire_all()
    assert session.get(Framework, theirs.id).name == "Hillside skills" and not session.get(Framework, theirs.id).archived
    assert set(_codes(session, theirs.id)) == {"COM", "COM.1", "THK"}


@pytest.mark.parametrize("role", [Role.student, Role.teacher, Role.guardian])
def test_only_admins_manage_frameworks(client, session, role):
    school = make_school(session)
    framework = make_framework(session, school)
    login(client, make_user(session, school, role))
    assert client.get("/admin/frameworks").status_code == 403
    assert client.get(f"/admin/frameworks/{framework.id}").status_code == 403
    assert client.post("/admin/frameworks", data={"name": "Mine"}).status_code == 403
    assert client.post("/admin/frameworks/bc").status_code == 403


def test_framework_page_query_count_does_not_grow(client, session, count_queries):
    school, _admin_user = _admin(client, session)
    small = make_framework(session, school, name="Small")
    big = make_framework(session, school, name="Big", competencies=tuple(
        (f"C{n}", f"Competency {n}", None) for n in range(25)))
    counts = []
    for framework in (small, big):
        with count_queries() as counter:
            assert client.get(f"/admin/frameworks/{framework.id}").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]

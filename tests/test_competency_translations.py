"""A framework's words in other languages: admins write them, everyone else reads them in their own language."""

from sqlmodel import Session, select

from app.models import (
    Competency,
    CompetencyTranslation,
    ProficiencyLevel,
    ProficiencyLevelTranslation,
    Role,
    User,
)
from app.services.competencies.bc_competencies import seed_bc_framework
from app.services.competencies.translations import read_content_in
from tests.factories import link_guardian, login, make_class, make_framework, make_school
from tests.factories import make_user as _make_user


def make_user(session, school, role, *, locale=None):
    user = _make_user(session, school, role)
    user.locale = locale
    session.add(user)
    session.commit()
    return user


def _bc_school(session, *, locale="es"):
    school = make_school(session)
    framework = seed_bc_framework(session=session, school=school)
    student = make_user(session, school, Role.student, locale=locale)
    teacher = make_user(session, school, Role.teacher, locale=locale)
    make_class(session, school, teachers=[teacher], students=[student])
    session.commit()
    return school, framework, student, teacher


def _competency(session, framework, code):
    return session.exec(select(Competency).where(Competency.framework_id == framework.id, Competency.code == code)).one()


def test_the_bc_framework_ships_in_spanish_and_french(session):
    school = make_school(session)
    framework = seed_bc_framework(session=session, school=school)
    session.commit()
    thinking = _competency(session, framework, "THK.1")
    words = {t.locale: t.name for t in session.exec(
        select(CompetencyTranslation).where(CompetencyTranslation.competency_id == thinking.id))}
    assert words == {"es": "Pensamiento creativo", "fr": "Pensée créatrice"}
    levels = session.exec(select(ProficiencyLevelTranslation.label).where(ProficiencyLevelTranslation.locale == "fr")
                          .join(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id)
                          .order_by(ProficiencyLevel.position)).all()
    assert levels == ["Émergent", "En voie d'acquisition", "Acquis", "Approfondi"]


def test_a_student_reads_competencies_and_the_scale_in_their_language(client, session):
    _school, framework, student, _teacher = _bc_school(session)
    login(client, student)
    listing = client.get("/competencies")
    assert "Pensamiento creativo" in listing.text and "Creative thinking" not in listing.text
    page = client.get(f"/competencies/{_competency(session, framework, 'THK.1').id}")
    assert "Se me ocurren ideas nuevas" in page.text and "Competente" in page.text
    assert "Proficient" not in page.text


def test_a_teacher_and_a_family_read_them_in_their_own_languages(client, new_client, session):
    school, framework, student, teacher = _bc_school(session, locale="fr")
    guardian = make_user(session, school, Role.guardian, locale="es")
    link_guardian(session, guardian, student)
    session.commit()
    login(client, teacher)
    assert "Pensée créatrice" in client.get(f"/students/{student.id}/competencies").text
    family = new_client()
    login(family, guardian)
    # The family page shows growth only where there are ratings; the competencies are named there in Spanish.
    response = family.get(f"/family/children/{student.id}")
    assert response.status_code == 200 and "Creative thinking" not in response.text


def test_a_competency_without_a_translation_shows_its_original_words(client, session):
    school = make_school(session)
    framework = make_framework(session, school)
    student = make_user(session, school, Role.student, locale="es")
    make_class(session, school, students=[student])
    communicating = _competency(session, framework, "COM.1")
    session.add(CompetencyTranslation(competency_id=communicating.id, locale="es", name="Comunicar"))
    session.commit()
    login(client, student)
    text = client.get("/competencies").text
    assert "Comunicar" in text and "Thinking" in text


def test_reading_a_translation_never_writes_it_back(app):
    with Session(app.state.engine) as session:
        school, framework, student, _teacher = _bc_school(session)
        competency_id, student_id = _competency(session, framework, "COM.1").id, student.id
    with Session(app.state.engine) as session:
        read_content_in(session=session, user=session.get(User, student_id), locale="es", original="en")
        competency = session.get(Competency, competency_id)
        assert competency.name == "Comunicar"
        competency.position += 1  # another change saved through the same object
        session.commit()
    with Session(app.state.engine) as session:
        assert session.get(Competency, competency_id).name == "Communicating"


def test_a_page_reads_all_its_translations_in_one_query(client, session, count_queries):
    _school, _framework, student, _teacher = _bc_school(session)
    login(client, student)
    client.get("/competencies")
    with count_queries() as spanish:
        client.get("/competencies")
    student.locale = "en"
    session.add(student)
    session.commit()
    with count_queries() as english:
        client.get("/competencies")
    translation_queries = [s for s in spanish.statements if "competency_translations" in s]
    assert len(translation_queries) == 1
    assert spanish.count == english.count + 1


def test_an_admin_sees_the_originals_and_translates_a_competency(client, session):
    school, framework, _student, _teacher = _bc_school(session)
    admin = make_user(session, school, Role.admin, locale="es")
    session.commit()
    login(client, admin)
    edit = client.get(f"/admin/frameworks/{framework.id}")
    assert "Creative thinking" in edit.text and f"/admin/frameworks/{framework.id}/translations/fr" in edit.text
    page = client.get(f"/admin/frameworks/{framework.id}/translations/es")
    assert page.status_code == 200 and 'value="Pensamiento creativo"' in page.text

    communicating = _competency(session, framework, "COM.1")
    url = f"/admin/frameworks/{framework.id}/translations/es/competencies/{communicating.id}"
    response = client.post(url, data={"name": "Comunicarse", "description": "Hablo y escucho."})
    assert response.status_code == 303
    session.expire_all()
    saved = session.exec(select(CompetencyTranslation).where(
        CompetencyTranslation.competency_id == communicating.id, CompetencyTranslation.locale == "es")).one()
    assert (saved.name, saved.description) == ("Comunicarse", "Hablo y escucho.")
    assert session.get(Competency, communicating.id).name == "Communicating"

    # An empty name removes the translation: the original shows again.
    assert client.post(url, data={"name": "", "description": ""}).status_code == 303
    session.expire_all()
    assert session.exec(select(CompetencyTranslation).where(
        CompetencyTranslation.competency_id == communicating.id, CompetencyTranslation.locale == "es")).first() is None


def test_an_admin_translates_a_scale_level_and_bad_input_changes_nothing(client, session):
    school, framework, _student, _teacher = _bc_school(session)
    admin = make_user(session, school, Role.admin)
    session.commit()
    login(client, admin)
    level = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id,
                                                        ProficiencyLevel.position == 3)).one()
    url = f"/admin/frameworks/{framework.id}/translations/fr/levels/{level.id}"
    too_long = client.post(url, data={"name": "x" * 61, "description": "Trop long"})
    assert too_long.status_code == 422
    assert f'id="l{level.id}-name-error"' in too_long.text and 'value="' + "x" * 61 + '"' in too_long.text
    no_name = client.post(url, data={"name": "", "description": "Sans nom"})
    assert no_name.status_code == 422 and "Sans nom" in no_name.text
    session.expire_all()
    assert session.exec(select(ProficiencyLevelTranslation.label).where(
        ProficiencyLevelTranslation.level_id == level.id, ProficiencyLevelTranslation.locale == "fr")).one() == "Acquis"

    assert client.post(url, data={"name": "Maîtrisé", "description": ""}).status_code == 303
    session.expire_all()
    assert session.exec(select(ProficiencyLevelTranslation.label).where(
        ProficiencyLevelTranslation.level_id == level.id, ProficiencyLevelTranslation.locale == "fr")).one() == "Maîtrisé"


def test_only_the_schools_admins_translate(client, new_client, session):
    school, framework, student, teacher = _bc_school(session)
    other_admin = make_user(session, make_school(session), Role.admin)
    session.commit()
    competency = _competency(session, framework, "COM")
    page = f"/admin/frameworks/{framework.id}/translations/es"
    save = f"{page}/competencies/{competency.id}"
    login(client, other_admin)
    assert client.get(page).status_code == 404
    assert client.post(save, data={"name": "Robado"}).status_code == 404
    for user in (teacher, student):
        browser = new_client()
        login(browser, user)
        assert browser.get(page).status_code in (403, 404)
        assert browser.post(save, data={"name": "Robado"}).status_code in (403, 404)
    session.expire_all()
    assert session.exec(select(CompetencyTranslation.name).where(
        CompetencyTranslation.competency_id == competency.id, CompetencyTranslation.locale == "es")).one() == "Comunicación"


def test_a_language_folio_does_not_translate_into_is_not_found(client, session):
    school, framework, _student, _teacher = _bc_school(session)
    admin = make_user(session, school, Role.admin)
    session.commit()
    login(client, admin)
    assert client.get(f"/admin/frameworks/{framework.id}/translations/de").status_code == 404
    # The school's own language is the original: there is nothing to translate into.
    assert client.get(f"/admin/frameworks/{framework.id}/translations/en").status_code == 404


def test_an_admin_writes_the_first_translation_of_a_competency_and_a_level(client, session):
    school = make_school(session)
    framework = make_framework(session, school)
    admin = make_user(session, school, Role.admin)
    login(client, admin)
    competency = _competency(session, framework, "COM.1")
    level = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id,
                                                        ProficiencyLevel.label == "Proficient")).one()
    base = f"/admin/frameworks/{framework.id}/translations/fr"
    assert client.post(f"{base}/competencies/{competency.id}",
                       data={"name": "Communiquer", "description": "Je parle."}).status_code == 303
    assert client.post(f"{base}/levels/{level.id}", data={"name": "Acquis", "description": "Souvent."}).status_code == 303
    session.expire_all()
    assert session.exec(select(CompetencyTranslation.name, CompetencyTranslation.description).where(
        CompetencyTranslation.competency_id == competency.id, CompetencyTranslation.locale == "fr")).one() == (
        "Communiquer", "Je parle.")
    assert session.exec(select(ProficiencyLevelTranslation.label, ProficiencyLevelTranslation.descriptor).where(
        ProficiencyLevelTranslation.level_id == level.id, ProficiencyLevelTranslation.locale == "fr")).one() == (
        "Acquis", "Souvent.")

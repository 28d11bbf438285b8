"""The daily loop (issue 13): save evidence → reflect on it (linked, its competencies ticked) → how am I doing, each step
skippable and working as plain forms and redirects; a spoken caption saved with the photo; nobody else's items."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from app.models import (
    Artefact, ArtefactCompetency, Audience, CompetencyRating, RatingArtefact, Reflection, ReflectionArtefact,
    ReflectionCompetency,
)
from tests.factories import login, make_class, make_framework, make_note, make_school, make_user, post_multipart
from tests.media import png
from tests.test_filetypes import wav_bytes


def _student_with_framework(session):
    school = make_school(session)
    student = make_user(session, school)
    framework = make_framework(session, school, classes=[make_class(session, school, students=[student])])
    return school, student, framework


def test_a_photo_goes_on_to_reflect_then_how_am_i_doing(client, session):
    school, student, framework = _student_with_framework(session)
    com, thk = framework.competencies[0], framework.competencies[2]
    login(client, student)

    saved = post_multipart(client, "/artefacts/upload", {"title": "Bridge", "competency_ids": [com.id, thk.id]},
                           {"files": ("bridge.png", png(), "image/png")})
    assert saved.status_code == 303
    artefact = session.exec(select(Artefact)).one()
    location = urlsplit(saved.headers["location"])
    assert location.path == "/reflections/new"
    assert parse_qs(location.query) == {"then": ["assess"], "saved": ["1"], "artefact": [str(artefact.id)]}

    form = client.get(saved.headers["location"])
    assert form.status_code == 200 and "Reflect on this" in form.text and "“Bridge” is in your evidence." in form.text
    for ticked in (artefact.id, com.id, thk.id):
        assert f'value="{ticked}" checked' in form.text
    assert 'name="title" type="text" value="Bridge"' in form.text  # the title is filled in: a spoken reflection needs no typing
    assert f'href="/self-assessment?artefact={artefact.id}">Skip</a>' in form.text
    assert 'name="then" value="assess"' in form.text

    reflected = post_multipart(client, "/reflections", {
        "title": "Bridge", "body": "Triangles held the weight.", "artefact_ids": [artefact.id],
        "competency_ids": [com.id], "then": "assess", "action": "publish"})
    reflection = session.exec(select(Reflection)).one()
    assert reflected.status_code == 303
    assert reflected.headers["location"] == f"/self-assessment?reflection={reflection.id}"

    check = client.get(reflected.headers["location"])
    assert check.status_code == 200 and "How am I doing?" in check.text
    assert f'name="level_{com.id}"' in check.text and f'name="level_{thk.id}"' not in check.text  # the reflection's
    assert "Triangles held the weight." in check.text  # the reason starts as what the reflection said
    assert f'href="/reflections/{reflection.id}">Done</a>' in check.text

    level = framework.levels[1]
    rated = client.post("/self-assessment", data={"reflection": reflection.id, f"level_{com.id}": level.id,
                                                   "reason": "Triangles held the weight."})
    assert rated.status_code == 303 and rated.headers["location"] == f"/reflections/{reflection.id}"
    rating = session.exec(select(CompetencyRating)).one()
    assert (rating.competency_id, rating.level_id, rating.student_id) == (com.id, level.id, student.id)
    assert session.exec(select(RatingArtefact.artefact_id)).all() == [artefact.id]  # the photo is the evidence
    assert "Your self-assessment of 1 competency is saved" in client.get(rated.headers["location"]).text


def test_each_step_can_be_skipped(client, session):
    school, student, framework = _student_with_framework(session)
    com = framework.competencies[0]
    note = make_note(session, student, title="Sketch")
    session.add(ArtefactCompetency(artefact_id=note.id, competency_id=com.id))
    session.commit()
    login(client, student)
    # Skipping the reflection asks about the evidence's own competencies; Done leads back to it.
    check = client.get(f"/self-assessment?artefact={note.id}")
    assert check.status_code == 200 and f'name="level_{com.id}"' in check.text
    assert f'href="/artefacts/{note.id}">Done</a>' in check.text
    # Evidence with no competency has nothing to rate: straight on to it.
    bare = make_note(session, student, title="Bare")
    skipped = client.get(f"/self-assessment?artefact={bare.id}")
    assert skipped.status_code == 303 and skipped.headers["location"] == f"/artefacts/{bare.id}"
    # A draft is not the end of the loop: it stays a draft, on its own page.
    draft = post_multipart(client, "/reflections", {"title": "Later", "artefact_ids": [note.id], "then": "assess",
                                                    "action": "draft"})
    assert draft.status_code == 303 and draft.headers["location"].startswith("/reflections/")


def test_how_am_i_doing_refuses_with_the_form_kept(client, session):
    school, student, framework = _student_with_framework(session)
    com = framework.competencies[0]
    note = make_note(session, student, title="Sketch")
    session.add(ArtefactCompetency(artefact_id=note.id, competency_id=com.id))
    session.commit()
    login(client, student)
    nothing = client.post("/self-assessment", data={"artefact": note.id, "reason": "Because"})
    assert nothing.status_code == 422 and "Choose where you are on at least one competency" in nothing.text
    no_reason = client.post("/self-assessment", data={"artefact": note.id, f"level_{com.id}": framework.levels[0].id})
    assert no_reason.status_code == 422 and "Say why you chose these levels" in no_reason.text
    assert f'value="{framework.levels[0].id}" checked' in no_reason.text
    other_scale = client.post("/self-assessment", data={"artefact": note.id, f"level_{com.id}": "999999", "reason": "x"})
    assert other_scale.status_code == 422
    assert session.exec(select(CompetencyRating)).all() == []


def test_nobody_reflects_on_or_rates_with_someone_elses_item(client, session):
    school, student, framework = _student_with_framework(session)
    other = make_user(session, school)
    theirs = make_note(session, other, title="Their secret sketch", audience=Audience.class_)
    their_reflection = Reflection(owner_id=other.id, title="Their thoughts", body="Private")
    session.add(their_reflection)
    session.commit()
    login(client, student)
    assert client.get(f"/reflections/new?then=assess&artefact={theirs.id}").status_code == 404
    assert client.get(f"/self-assessment?artefact={theirs.id}").status_code == 404
    assert client.get(f"/self-assessment?reflection={their_reflection.id}").status_code == 404
    refused = client.post("/self-assessment", data={"artefact": theirs.id, "reason": "x"})
    assert refused.status_code == 404 and "Their secret sketch" not in refused.text
    # Linking it through the reflection form is ignored, as before.
    post_multipart(client, "/reflections", {"title": "Mine", "body": "Words", "artefact_ids": [theirs.id],
                                            "then": "assess", "action": "publish"})
    assert session.exec(select(ReflectionArtefact)).all() == []


def test_the_competencies_ticked_are_only_those_the_student_can_use(client, session):
    school, student, framework = _student_with_framework(session)
    elsewhere = make_framework(session, make_school(session), name="Another school's")
    note = make_note(session, student, title="Sketch")
    session.add(ArtefactCompetency(artefact_id=note.id, competency_id=elsewhere.competencies[0].id))
    session.add(ArtefactCompetency(artefact_id=note.id, competency_id=framework.competencies[0].id))
    session.commit()
    login(client, student)
    form = client.get(f"/reflections/new?then=assess&artefact={note.id}").text
    assert f'value="{framework.competencies[0].id}" checked' in form
    assert f'value="{elsewhere.competencies[0].id}"' not in form
    reflected = post_multipart(client, "/reflections", {
        "title": "Sketch", "body": "Words", "artefact_ids": [note.id], "then": "assess", "action": "publish",
        "competency_ids": [framework.competencies[0].id, elsewhere.competencies[0].id]})
    reflection_id = int(reflected.headers["location"].rsplit("=", 1)[1])
    assert session.exec(select(ReflectionCompetency.competency_id)
                        .where(ReflectionCompetency.reflection_id == reflection_id)).all() == [framework.competencies[0].id]


def test_a_spoken_caption_is_saved_with_the_photo_and_heard_only_with_it(client, client_from, session):
    school = make_school(session)
    student, classmate = make_user(session, school), make_user(session, school)
    make_class(session, school, students=[student, classmate])
    login(client, student)
    saved = post_multipart(client, "/artefacts/upload", {"title": "Bridge", "audience": "private"}, {
        "files": ("bridge.png", png(), "image/png"), "caption_audio": ("caption.wav", wav_bytes(), "audio/wav")})
    assert saved.status_code == 303
    photo = session.exec(select(Artefact).where(Artefact.title == "Bridge")).one()
    caption = session.get(Artefact, photo.audio_artefact_id)
    assert caption is not None and caption.audience is Audience.private and caption.media_kind.value == "audio"
    session.refresh(student)
    assert student.storage_used_bytes >= photo.size_bytes + caption.size_bytes
    page = client.get(f"/artefacts/{photo.id}").text
    assert f'src="/files/{caption.id}/original"' in page and "Spoken caption" in page
    # Never listed on its own: not in the reflection form's evidence choices.
    assert f'value="{caption.id}"' not in client.get("/reflections/new").text

    other = client_from("203.0.113.7")
    login(other, classmate)
    assert other.get(f"/files/{caption.id}/original").status_code == 404
    edited = client.post(f"/artefacts/{photo.id}/edit", data={"title": "Bridge", "audience": "class",
                                                              "version": photo.version})
    assert edited.status_code == 303
    assert other.get(f"/files/{caption.id}/original").status_code == 200  # it follows the photo

    # Deleting the photo deletes its caption (and gives the space back).
    caption_id = caption.id
    assert client.post(f"/artefacts/{photo.id}/delete").status_code == 303
    session.expire_all()
    assert session.get(Artefact, caption_id) is None
    session.refresh(student)
    assert student.storage_used_bytes == 0


def test_a_caption_that_is_not_sound_is_refused_with_nothing_saved(client, session):
    school, student, framework = _student_with_framework(session)
    login(client, student)
    refused = post_multipart(client, "/artefacts/upload", {"title": "Bridge"}, {
        "files": ("bridge.png", png(), "image/png"), "caption_audio": ("not.png", png(), "image/png")})
    assert refused.status_code == 422 and "a sound recording. Choose an audio file" in refused.text
    assert session.exec(select(Artefact)).all() == []


def test_the_add_form_speaks_to_the_student(client, session, settings):
    school, student, framework = _student_with_framework(session)
    login(client, student)
    page = client.get("/artefacts/new").text
    assert f"Photos, videos, recordings and documents up to {settings.max_upload_mb} MB each" in page
    assert 'accept="image/*,video/*" capture="environment"' in page
    assert 'name="caption_audio"' in page and "data-recorder" in page
    # Save comes before the rarely changed details, and the competency list is folded away.
    assert page.index("Add to my evidence</button>") > page.index('class="picker__details"')
    assert page.index('class="more-details"') < page.index("Add to my evidence</button>")


def test_empty_pages_offer_the_next_action(client, session):
    school = make_school(session)
    student = make_user(session, school)
    login(client, student)
    assert 'href="/artefacts/new">Add your first evidence</a>' in client.get("/student").text
    assert 'href="/artefacts/new">Take a photo or add a file</a>' in client.get("/artefacts").text
    assert 'href="/goals/new">Set your first goal</a>' in client.get("/goals").text
    assert 'href="/showcases/new">Make your first showcase</a>' in client.get("/showcases").text
    assert 'href="/artefacts/new">Add evidence to reflect on</a>' in client.get("/reflections").text
    note = make_note(session, student, title="Sketch")
    offer = client.get("/reflections").text
    assert f'href="/reflections/new?then=assess&amp;artefact={note.id}">Reflect on “Sketch”</a>' in offer

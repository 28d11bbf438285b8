"""A recording goes with its item (a reflection's, an artefact's spoken caption), so the item's approval covers it:
a new or removed recording on an approved family item is something no teacher has heard, and the item waits again.
An approval made before recordings were covered still holds while nothing changes."""

from datetime import date
from html import unescape

from sqlmodel import select

from app.models import ApprovalStatus, Artefact, ArtefactKind, Audience, ItemApproval, MediaKind, Reflection
from app.services.portfolio.reflections import set_recording
from tests.factories import login, make_reflection, post_multipart
from tests.test_approvals import _family


def _audio(session, owner) -> Artefact:
    recording = Artefact(owner_id=owner.id, kind=ArtefactKind.file, title="Recording", occurred_on=date.today(),
                         stored_name=f"rec-{owner.id}-{date.today()}.webm", original_name="talk.webm",
                         content_type="audio/webm", media_kind=MediaKind.audio, size_bytes=10)
    session.add(recording)
    session.commit()
    return recording


def _approval(session, item_id: int) -> ItemApproval:
    session.expire_all()
    return session.exec(select(ItemApproval).where(ItemApproval.item_id == item_id)).one()


def _speak(session, reflection_id: int, audio_id: int | None) -> None:
    reflection = session.get(Reflection, reflection_id)
    session.refresh(reflection)
    set_recording(session=session, reflection=reflection, version=reflection.version, audio_artefact_id=audio_id)
    session.commit()


def test_a_new_or_removed_recording_on_an_approved_reflection_waits_for_a_teacher_again(new_client, session):
    _school, teacher, maya, mother = _family(session)
    reflection = make_reflection(session, maya, title="My book talk", body="I spoke about it.", audience=Audience.family)
    _speak(session, reflection.id, _audio(session, maya).id)
    staff, family = new_client(), new_client()
    login(staff, teacher)
    login(family, mother)
    assert staff.post(f"/approvals/{_approval(session, reflection.id).id}/approve").status_code == 303
    assert family.get(f"/reflections/{reflection.id}").status_code == 200

    _speak(session, reflection.id, _audio(session, maya).id)  # recorded again: the words are the same
    assert _approval(session, reflection.id).status is ApprovalStatus.pending
    assert family.get(f"/reflections/{reflection.id}").status_code == 404
    assert "A new recording: listen to it above." in unescape(staff.get("/inbox").text)
    assert staff.post(f"/approvals/{_approval(session, reflection.id).id}/approve").status_code == 303
    assert family.get(f"/reflections/{reflection.id}").status_code == 200

    _speak(session, reflection.id, None)
    assert _approval(session, reflection.id).status is ApprovalStatus.pending
    assert "The recording was taken out." in unescape(staff.get("/inbox").text)


def test_an_approval_from_before_recordings_were_covered_holds_while_nothing_changes(client, new_client, session):
    _school, teacher, maya, mother = _family(session)
    reflection = make_reflection(session, maya, title="My book talk", body="I spoke about it.", audience=Audience.family)
    staff = new_client()
    login(staff, teacher)
    assert staff.post(f"/approvals/{_approval(session, reflection.id).id}/approve").status_code == 303
    approval = _approval(session, reflection.id)
    approval.approved_text = {"title": "My book talk", "body": "I spoke about it."}  # as approvals were kept before
    session.add(approval)
    session.commit()
    login(client, maya)
    saved = post_multipart(client, f"/reflections/{reflection.id}/edit", {
        "title": "My book talk", "body": "I spoke about it.", "audience": "family", "action": "publish",
        "version": str(session.get(Reflection, reflection.id).version)})
    assert saved.status_code == 303, saved.text
    assert _approval(session, reflection.id).status is ApprovalStatus.approved
    family = new_client()
    login(family, mother)
    assert family.get(f"/reflections/{reflection.id}").status_code == 200

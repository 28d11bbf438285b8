"""Approvals in place: each waiting family item shown to the teacher as its family will see it (picture, words,
recording), approved or returned from its card (HTMX swaps the card; without JavaScript the form posts and the inbox
comes back), in a constant number of queries."""

from html import unescape

from sqlmodel import select

from app.models import ApprovalStatus, Artefact, Audience, ItemApproval, Reflection
from tests.factories import login, make_note, post_multipart
from tests.media import png
from tests.test_approvals import _family
from tests.test_filetypes import wav_bytes

HTMX = {"HX-Request": "true"}


def _approval_of(session, item_id: int) -> ItemApproval:
    session.expire_all()
    return session.exec(select(ItemApproval).where(ItemApproval.item_id == item_id)).one()


def _photo(session, client, title: str, *, caption: bool = False) -> Artefact:
    files = {"files": ("photo.png", png(), "image/png")}
    if caption:
        files["caption_audio"] = ("caption.wav", wav_bytes(), "audio/wav")
    response = post_multipart(client, "/artefacts/upload", {"title": title, "audience": "family"}, files=files)
    assert response.status_code == 303, response.text
    return session.exec(select(Artefact).where(Artefact.title == title)).one()


def _spoken(session, client, title: str) -> Reflection:
    response = post_multipart(client, "/reflections", {"title": title, "body": "What I tried", "audience": "family",
                                                       "action": "publish"},
                              files={"audio": ("voice.wav", wav_bytes(), "audio/wav")})
    assert response.status_code == 303, response.text
    return session.exec(select(Reflection).where(Reflection.title == title)).one()


def test_the_inbox_shows_each_waiting_item_as_the_family_will_see_it(client, new_client, session):
    _school, teacher, maya, _mother = _family(session)
    student = new_client()
    login(student, maya)
    photo = _photo(session, student, "Volcano")
    spoken = _spoken(session, student, "My week")
    make_note(session, maya, title="Garden", body="Beans are *tall*", audience=Audience.family)
    login(client, teacher)
    page = unescape(client.get("/inbox").text)
    assert f'src="/files/{photo.id}/small"' in page and f'href="/files/{photo.id}/original"' in page
    assert f'src="/files/{spoken.audio_artefact_id}/original"' in page and "What I tried" in page
    assert "Beans are tall" in page
    assert f'hx-post="/approvals/{_approval_of(session, photo.id).id}/approve"' in page


def test_approving_with_htmx_swaps_the_card_for_a_message(client, new_client, session):
    _school, teacher, maya, mother = _family(session)
    note = make_note(session, maya, title="Garden", audience=Audience.family)
    approval = _approval_of(session, note.id)
    login(client, teacher)
    page = client.get("/inbox").text
    seen = unescape(page.split('name="seen" value="', 1)[1].split('"', 1)[0])
    response = client.post(f"/approvals/{approval.id}/approve", data={"seen": seen}, headers=HTMX)
    assert response.status_code == 200
    card = unescape(response.text)
    assert card.lstrip().startswith(f'<li class="card approval-card approval-card--done" id="approval-{approval.id}">')
    assert "Approved: families can see it now." in card and "<html" not in card
    assert _approval_of(session, note.id).status is ApprovalStatus.approved
    family = new_client()
    login(family, mother)
    assert family.get(f"/artefacts/{note.id}").status_code == 200


def test_a_changed_item_comes_back_as_it_is_now_and_stays_waiting(client, new_client, session):
    _school, teacher, maya, _mother = _family(session)
    note = make_note(session, maya, title="Garden", audience=Audience.family)
    approval = _approval_of(session, note.id)
    login(client, teacher)
    response = client.post(f"/approvals/{approval.id}/approve", data={"seen": f"{approval.id}:stale"}, headers=HTMX)
    assert response.status_code == 409
    card = unescape(response.text)
    assert "It changed since you opened your inbox." in card and 'role="alert"' in card
    assert f'id="approval-{approval.id}"' in card and "Garden" in card
    assert _approval_of(session, note.id).status is ApprovalStatus.pending


def test_returning_with_htmx_needs_a_note_and_keeps_what_was_typed(client, session):
    _school, teacher, maya, _mother = _family(session)
    note = make_note(session, maya, title="Garden", audience=Audience.family)
    approval = _approval_of(session, note.id)
    login(client, teacher)
    empty = client.post(f"/approvals/{approval.id}/return", data={"note": "   "}, headers=HTMX)
    assert empty.status_code == 422
    assert "Write a short note so the student knows what to change." in unescape(empty.text)
    assert _approval_of(session, note.id).status is ApprovalStatus.pending
    too_long = client.post(f"/approvals/{approval.id}/return", data={"note": "x" * 2001}, headers=HTMX)
    assert too_long.status_code == 422 and "x" * 2001 in too_long.text  # the words typed are not lost
    returned = client.post(f"/approvals/{approval.id}/return", data={"note": "Add a caption."}, headers=HTMX)
    assert returned.status_code == 200 and "Returned to the student with your note." in returned.text
    assert _approval_of(session, note.id).status is ApprovalStatus.returned
    # Deciding again on what no longer waits says so, in place.
    again = client.post(f"/approvals/{approval.id}/return", data={"note": "  "}, headers=HTMX)
    assert again.status_code == 422 and "It no longer waits for your approval." in unescape(again.text)


def test_the_inbox_plays_a_photos_spoken_caption_as_the_family_will_hear_it(client, new_client, session):
    _school, teacher, maya, _mother = _family(session)
    student = new_client()
    login(student, maya)
    photo = _photo(session, student, "Bridge", caption=True)
    assert photo.audio_artefact_id
    login(client, teacher)
    page = unescape(client.get("/inbox").text)
    assert f'src="/files/{photo.audio_artefact_id}/original"' in page and "Spoken caption" in page
    assert client.get(f"/files/{photo.audio_artefact_id}/original").status_code == 200


def test_inbox_queries_do_not_grow_with_pictures_and_recordings(client, new_client, session, count_queries):
    _school, teacher, maya, _mother = _family(session)
    student = new_client()
    login(student, maya)
    login(client, teacher)

    def queries_after(n: int, start: int) -> int:
        for i in range(start, start + n):
            _photo(session, student, f"Photo {i}", caption=True)
            _spoken(session, student, f"Spoken {i}")
        with count_queries() as counter:
            page = client.get("/inbox")
        assert page.status_code == 200
        return counter.count

    assert queries_after(1, 0) == queries_after(4, 1)

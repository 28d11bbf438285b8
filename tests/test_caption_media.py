"""A photo's spoken caption plays wherever the photo is shown with its media (the family feed, a showcase signed in
or by its secret link, the presentation), for whoever may see the photo and nobody else."""

from __future__ import annotations

from html import unescape

from sqlmodel import select

from app.models import Artefact
from tests.factories import login, post_multipart
from tests.media import png
from tests.test_family_access import _families
from tests.test_filetypes import wav_bytes
from tests.test_share_links import add, make_link, new_showcase


def _captioned_photo(session, client, owner, title: str, audience: str) -> tuple[Artefact, Artefact]:
    saved = post_multipart(client, "/artefacts/upload", {"title": title, "audience": audience}, {
        "files": (f"{title}.png", png(), "image/png"), "caption_audio": ("caption.wav", wav_bytes(), "audio/wav")})
    assert saved.status_code == 303, saved.text
    session.expire_all()
    photo = session.exec(select(Artefact).where(Artefact.owner_id == owner.id, Artefact.title == title)).one()
    caption = session.get(Artefact, photo.audio_artefact_id)
    assert caption is not None
    return photo, caption


def _people(session, new_client):
    _school, teacher, maya, sam, mother, father = _families(session)
    student = new_client()
    login(student, maya)
    shared, shared_caption = _captioned_photo(session, student, maya, "Volcano", "family")
    _mine, private_caption = _captioned_photo(session, student, maya, "Sketch", "private")
    return {"teacher": teacher, "maya": maya, "sam": sam, "mother": mother, "father": father, "student": student,
            "shared": shared, "shared_caption": shared_caption, "private": _mine, "private_caption": private_caption}


def _plays(page: str, caption: Artefact, prefix: str = "") -> bool:
    return f'src="{prefix}/files/{caption.id}/original"' in page


def test_the_family_feed_plays_a_photos_spoken_caption_to_its_family_only(client, new_client, session):
    p = _people(session, new_client)
    login(client, p["mother"])
    for url in (f"/family/children/{p['maya'].id}", "/family"):
        page = unescape(client.get(url).text)
        assert f'src="/files/{p["shared"].id}/small"' in page, url
        assert _plays(page, p["shared_caption"]) and "Spoken caption" in page, url
        assert not _plays(page, p["private_caption"]), url
    assert client.get(f"/files/{p['shared_caption'].id}/original").status_code == 200
    assert client.get(f"/files/{p['private_caption'].id}/original").status_code == 404

    other = new_client()
    login(other, p["father"])  # Sam's father: not Maya's family
    assert not _plays(other.get("/family").text, p["shared_caption"])
    assert other.get(f"/files/{p['shared_caption'].id}/original").status_code == 404


def test_a_showcase_plays_the_caption_to_those_who_may_see_the_photo(client, new_client, session):
    p = _people(session, new_client)
    student = p["student"]
    showcase_id = new_showcase(student, audience="family")
    add(student, showcase_id, "artefact", p["shared"].id)
    add(student, showcase_id, "artefact", p["private"].id)

    own = student.get(f"/showcases/{showcase_id}").text
    assert _plays(own, p["shared_caption"]) and _plays(own, p["private_caption"])

    login(client, p["mother"])
    page = client.get(f"/showcases/{showcase_id}").text
    assert _plays(page, p["shared_caption"])
    assert not _plays(page, p["private_caption"])  # the private photo is hidden from the family, and so its caption

    teacher = new_client()
    login(teacher, p["teacher"])
    page = teacher.get(f"/showcases/{showcase_id}").text
    assert _plays(page, p["shared_caption"]) and _plays(page, p["private_caption"])

    classmate = new_client()
    login(classmate, p["sam"])
    assert classmate.get(f"/showcases/{showcase_id}").status_code == 404
    assert classmate.get(f"/files/{p['shared_caption'].id}/original").status_code == 404


def test_a_secret_link_plays_the_caption_of_a_photo_in_it_and_nothing_else(client, new_client, session):
    p = _people(session, new_client)
    student = p["student"]
    showcase_id = new_showcase(student, audience="private")
    add(student, showcase_id, "artefact", p["shared"].id)
    token = make_link(student, showcase_id)

    visitor = new_client()
    page = visitor.get(f"/s/{token}").text
    assert _plays(page, p["shared_caption"], prefix=f"/s/{token}")
    assert visitor.get(f"/s/{token}/files/{p['shared_caption'].id}/original").status_code == 200
    # The other photo is not in this showcase: neither it nor its caption comes through the link.
    assert visitor.get(f"/s/{token}/files/{p['private'].id}/original").status_code == 404
    assert visitor.get(f"/s/{token}/files/{p['private_caption'].id}/original").status_code == 404


def test_the_presentation_plays_the_caption_on_the_photos_slide(client, new_client, session):
    p = _people(session, new_client)
    student = p["student"]
    showcase_id = new_showcase(student, audience="family")
    add(student, showcase_id, "artefact", p["shared"].id)
    page = unescape(student.get(f"/showcases/{showcase_id}/present").text)
    caption_id = p["shared_caption"].id
    assert f'<audio class="slide__audio" controls preload="auto" src="/files/{caption_id}/original"' in page
    assert "Spoken caption" in page
    # The photo stays a picture on the slide, not a link out of the presentation.
    assert f'<img class="slide__image" src="/files/{p["shared"].id}/' in page
    assert f'href="/files/{p["shared"].id}/original"' not in page

    login(client, p["mother"])
    assert client.get(f"/showcases/{showcase_id}/present").status_code == 404  # only the owner presents

"""A student's own credentials in showcases: added as badge cards, seen by the showcase's viewers where the student
put them (signed in, by secret link, in the presentation), never anyone else's; revoked ones say so."""

import re

import pytest
from sqlmodel import select

from app.models import Artefact, Audience, Credential, ShowcaseItem, ShowcaseItemType
from tests.factories import login, make_note
from tests.test_badges import award_one, world  # noqa: F401 (a fixture)
from tests.test_share_links import make_link
from tests.test_showcases import add, new_showcase


def maya_showcase(client, session, w, *, audience="family"):
    """Ms Shah awards Maya a credential; Maya puts a note, then the credential, in a showcase."""
    credential = award_one(client, session, w)
    note = make_note(session, w["maya"], title="My speech notes", audience=Audience.family)
    client.cookies.clear()
    login(client, w["maya"])
    showcase_id = new_showcase(client, title="Proud of", audience=audience)
    assert add(client, showcase_id, "artefact", note.id).status_code == 303
    assert add(client, showcase_id, "credential", credential.id).status_code == 303
    return credential, showcase_id


def card_of(html: str) -> str:
    match = re.search(r'<div class="showcase-item__body credential-card[^"]*">.*?</div>\s*</article>', html, re.S)
    assert match, html
    return match.group(0)


def test_the_student_adds_a_credential_once_and_it_shows_as_a_badge_card(client, session, world):
    w = world
    credential, showcase_id = maya_showcase(client, session, w)
    picker = client.get(f"/showcases/{showcase_id}/items/new").text
    assert "COM.1 Communicating: Proficient" in picker and "In the showcase" in picker
    assert add(client, showcase_id, "credential", credential.id).status_code == 303
    entries = session.exec(select(ShowcaseItem).where(ShowcaseItem.showcase_id == showcase_id)
                           .order_by(ShowcaseItem.position)).all()
    assert [(e.item_type, e.credential_id) for e in entries][1:] == [(ShowcaseItemType.credential, credential.id)]
    page = client.get(f"/showcases/{showcase_id}").text
    card = card_of(page)
    assert "COM.1 Communicating: Proficient" in card and "Hillside School" in card
    assert f'href="http://testserver/badges/credentials/{credential.public_id}/verify"' in card
    assert "Revoked" not in card
    assert page.index("My speech notes") < page.index("COM.1 Communicating: Proficient")


def test_nobody_adds_another_students_credential(client, session, world):
    w = world
    credential = award_one(client, session, w)
    client.cookies.clear()
    login(client, w["other"])
    showcase_id = new_showcase(client)
    assert add(client, showcase_id, "credential", credential.id).status_code == 404
    assert add(client, showcase_id, "credential", 999_999).status_code == 404
    assert "Communicating" not in client.get(f"/showcases/{showcase_id}/items/new").text
    assert session.exec(select(ShowcaseItem).where(ShowcaseItem.showcase_id == showcase_id)).all() == []


@pytest.mark.parametrize("who", ["mother", "shah"])
def test_the_showcases_viewers_see_the_card_where_the_student_put_it(client, session, world, new_client, who):
    w = world
    credential, showcase_id = maya_showcase(client, session, w)
    # Maya moves the credential to the top.
    first = session.exec(select(ShowcaseItem.id).where(ShowcaseItem.showcase_id == showcase_id,
                                                       ShowcaseItem.item_type == ShowcaseItemType.credential)).one()
    assert client.post(f"/showcases/{showcase_id}/items/{first}/move", data={"direction": "up"}).status_code == 303
    viewer = new_client()
    login(viewer, w[who])
    page = viewer.get(f"/showcases/{showcase_id}")
    assert page.status_code == 200
    assert page.text.index("COM.1 Communicating: Proficient") < page.text.index("My speech notes")
    assert credential.public_id in card_of(page.text)


def test_a_secret_link_and_the_presentation_show_the_card(client, session, world, new_client):
    w = world
    credential, showcase_id = maya_showcase(client, session, w, audience="private")
    slides = client.get(f"/showcases/{showcase_id}/present").text
    assert "COM.1 Communicating: Proficient" in slides
    assert f"/badges/credentials/{credential.public_id}/verify" in slides
    token = make_link(client, showcase_id)
    visitor = new_client()
    shared = visitor.get(f"/s/{token}")
    assert shared.status_code == 200
    card = card_of(shared.text)
    assert "Hillside School" in card and f"/badges/credentials/{credential.public_id}/verify" in card


def test_others_see_nothing_of_it_beyond_the_showcase(client, session, world, new_client):
    w = world
    credential, showcase_id = maya_showcase(client, session, w, audience="private")
    stranger = new_client()
    login(stranger, w["other"])
    assert stranger.get(f"/showcases/{showcase_id}").status_code == 404
    assert stranger.get(f"/credentials/{credential.public_id}").status_code == 404
    mother = new_client()
    login(mother, w["mother"])
    assert mother.get(f"/showcases/{showcase_id}").status_code == 404


def test_a_revoked_credential_shows_as_revoked(client, session, world):
    w = world
    credential, showcase_id = maya_showcase(client, session, w)
    client.cookies.clear()
    login(client, w["shah"])
    assert client.post(f"/credentials/{credential.public_id}/revoke",
                       data={"reason": "Awarded to the wrong student"}).status_code == 303
    card = card_of(client.get(f"/showcases/{showcase_id}").text)
    assert "Revoked" in card and "The issuer has revoked this credential." in card


def test_deleting_the_credential_takes_it_out_of_showcases(client, session, world):
    w = world
    credential, showcase_id = maya_showcase(client, session, w)
    session.delete(session.get(Credential, credential.id))
    session.commit()
    session.expire_all()
    kinds = session.exec(select(ShowcaseItem.item_type).where(ShowcaseItem.showcase_id == showcase_id)).all()
    assert kinds == [ShowcaseItemType.artefact]
    assert session.exec(select(Artefact).where(Artefact.owner_id == w["maya"].id)).first() is not None


def test_the_showcase_page_takes_as_many_queries_for_one_credential_as_for_three(client, session, world, new_client,
                                                                                 count_queries):
    w = world
    credential, showcase_id = maya_showcase(client, session, w)
    mother = new_client()
    login(mother, w["mother"])

    def queries(browser) -> int:
        with count_queries() as counter:
            assert browser.get(f"/showcases/{showcase_id}").status_code == 200
        return counter.count

    before = (queries(client), queries(mother))
    for _ in range(2):
        more = award_one(new_client(), session, w)
        assert add(client, showcase_id, "credential", more.id).status_code == 303
    page = client.get(f"/showcases/{showcase_id}").text
    assert page.count("showcase-item__body credential-card") == 3
    assert (queries(client), queries(mother)) == before

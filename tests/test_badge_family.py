"""A family sees their child's standing credentials on the child's page, and may open one (never a revoked one, never
another child's)."""

from __future__ import annotations

import html

import pytest

from app.models import Role
from tests.factories import link_guardian, login, make_user
from tests.test_badges import award_one, build_world


@pytest.fixture
def world(session):
    return build_world(session)


def test_a_guardian_sees_their_childs_credentials_and_can_verify_them(client, session, world, new_client):
    w = world
    credential = award_one(client, session, w)
    family = new_client()
    login(family, w["mother"])
    page = html.unescape(family.get(f"/family/children/{w['maya'].id}").text)
    assert "COM.1 Communicating: Proficient" in page
    assert "Issued by Hillside School on" in page
    assert f'href="/credentials/{credential.public_id}"' in page
    assert f'href="/badges/credentials/{credential.public_id}/verify"' in page
    shown = family.get(f"/credentials/{credential.public_id}")
    assert shown.status_code == 200 and "Revoke" not in shown.text
    assert family.get(f"/badges/credentials/{credential.public_id}/verify").status_code == 200


def test_a_revoked_credential_leaves_the_family_page(client, session, world, new_client):
    w = world
    credential = award_one(client, session, w)
    assert client.post(f"/credentials/{credential.public_id}/revoke", data={"reason": "Wrong student"}).status_code == 303
    family = new_client()
    login(family, w["mother"])
    page = family.get(f"/family/children/{w['maya'].id}").text
    assert "COM.1 Communicating" not in page and "No credentials awarded yet." in page
    assert family.get(f"/credentials/{credential.public_id}").status_code == 404


def test_an_unlinked_guardian_sees_no_credential(client, session, world, new_client):
    w = world
    credential = award_one(client, session, w)
    stranger = make_user(session, w["school"], Role.guardian)
    link_guardian(session, stranger, w["other"])
    other = new_client()
    login(other, stranger)
    assert other.get(f"/family/children/{w['maya'].id}").status_code == 404
    assert other.get(f"/credentials/{credential.public_id}").status_code == 404
    assert "COM.1" not in other.get(f"/family/children/{w['other'].id}").text


def test_the_family_page_shows_credentials_in_a_constant_number_of_queries(client, session, world, new_client,
                                                                            count_queries):
    w = world
    award_one(client, session, w)
    family = new_client()
    login(family, w["mother"])
    with count_queries() as one:
        family.get(f"/family/children/{w['maya'].id}")
    for _ in range(3):
        award_one(client, session, w)
    with count_queries() as many:
        page = family.get(f"/family/children/{w['maya'].id}").text
    assert page.count("/verify\"") == 4
    assert many.count == one.count


def test_the_family_pages_credentials_go_through_the_credential_rule(client, session, world, new_client, settings):
    from app.services.badges.credentials import standing_credentials

    w = world
    credential = award_one(client, session, w)
    stranger = make_user(session, w["school"], Role.guardian)  # another child's guardian
    link_guardian(session, stranger, w["other"])
    removed = make_user(session, w["school"], Role.guardian)
    link_guardian(session, removed, w["maya"])
    maya = new_client()
    login(maya, w["maya"])
    assert maya.post(f"/my-family/{removed.id}/remove").status_code == 303
    family = new_client()
    login(family, removed)
    assert family.get(f"/family/children/{w['maya'].id}").status_code == 404

    def shown(viewer):
        return [view.public_id for view in standing_credentials(session=session, settings=settings, viewer=viewer,
                                                                 student=w["maya"])]

    assert shown(w["mother"]) == [credential.public_id]
    assert shown(stranger) == []
    assert shown(removed) == []

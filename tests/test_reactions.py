"""Quick reactions: a guardian's heart, clap, star or wow on their own child's family items, one of each per person
(pressing again takes it back), counted, and named for the student; nobody else may react (404)."""

from html import unescape

from sqlmodel import select

from app.models import Audience, ItemReaction, ReactionKind, Role
from tests.factories import link_guardian, login, make_class, make_note, make_reflection, make_school, make_user
from tests.test_family_access import _approve, _families


def _react(client, item_id: int, kind: str = "heart", **headers):
    return client.post(f"/items/{item_id}/reactions", data={"kind": kind, "back": "feed"}, headers=headers)


def _reactions(session) -> list[tuple[int, int, ReactionKind]]:
    session.expire_all()
    return [(r.item_id, r.user_id, r.kind) for r in session.exec(select(ItemReaction).order_by(ItemReaction.id)).all()]


def _thread(client, item_type: str, item_id: int) -> str:
    response = client.get(f"/feedback/thread?item_type={item_type}&item_id={item_id}")
    assert response.status_code == 200
    return unescape(response.text)


def test_guardians_react_once_per_kind_and_the_student_sees_who(client, new_client, session):
    school, teacher, maya, _sam, mother, _father = _families(session)
    grandma = make_user(session, school, Role.guardian, display_name="Grandma Rosa")
    link_guardian(session, grandma, maya)
    note = make_note(session, maya, title="My garden", audience=Audience.family)

    login(client, mother)
    response = _react(client, note.id)
    assert response.status_code == 303
    assert response.headers["location"] == f"/family/children/{maya.id}#item-{note.id}"
    granny = new_client()
    login(granny, grandma)
    assert _react(granny, note.id).status_code == 303
    assert _react(granny, note.id, "clap").status_code == 303
    # Without JavaScript, back to the page of the feed the button was on.
    back = granny.post(f"/items/{note.id}/reactions", data={"kind": "clap", "back": "feed:2"})
    assert back.headers["location"] == f"/family/children/{maya.id}?page=2#item-{note.id}"
    assert granny.post(f"/items/{note.id}/reactions", data={"kind": "clap", "back": "home"}).status_code == 303
    assert sorted(_reactions(session)) == sorted([(note.id, mother.id, ReactionKind.heart),
                                                  (note.id, grandma.id, ReactionKind.heart),
                                                  (note.id, grandma.id, ReactionKind.clap)])

    feed = unescape(client.get(f"/family/children/{maya.id}").text)
    assert 'aria-pressed="true"' in feed and "Love it" in feed  # her own heart, named for screen readers
    assert "Maya's mother and Grandma Rosa reacted." in feed

    owner = new_client()
    login(owner, maya)
    assert "Maya's mother and Grandma Rosa reacted." in _thread(owner, "artefact", note.id)
    staff = new_client()
    login(staff, teacher)
    assert "Grandma Rosa" in _thread(staff, "artefact", note.id)

    # Pressing the same reaction again takes it back: one per guardian, item and kind.
    assert _react(client, note.id).status_code == 303
    assert (note.id, mother.id, ReactionKind.heart) not in _reactions(session)
    assert "Grandma Rosa reacted." in _thread(owner, "artefact", note.id)


def test_with_htmx_the_reaction_bar_comes_back_in_place(client, session):
    _school, _teacher, maya, _sam, mother, _father = _families(session)
    reflection = make_reflection(session, maya, title="My week", audience=Audience.family)
    login(client, mother)
    response = _react(client, reflection.id, "star", **{"HX-Request": "true"})
    assert response.status_code == 200
    bar = unescape(response.text)
    assert bar.lstrip().startswith(f'<div class="reactions" id="reactions-{reflection.id}">')
    assert "<html" not in bar and 'value="star"' in bar and 'aria-pressed="true"' in bar
    assert "Maya's mother reacted." in bar


def test_only_a_guardian_of_the_child_reacts_and_only_on_what_families_see(client, new_client, session):
    school, teacher, maya, sam, mother, father = _families(session)
    other_teacher = make_user(session, school, Role.teacher)
    make_class(session, school, teachers=[other_teacher], students=[sam])
    shared = make_note(session, maya, title="Shared", audience=Audience.family)
    private = make_note(session, maya, title="Mine", audience=Audience.private)
    for_class = make_note(session, maya, title="For class", audience=Audience.class_)
    draft = make_reflection(session, maya, title="Draft", audience=Audience.family, draft=True)

    # Another family's guardian, another student, a teacher of another class, Maya's own teacher, Maya herself.
    for person in (father, sam, other_teacher, teacher, maya):
        outsider = new_client()
        login(outsider, person)
        assert _react(outsider, shared.id).status_code == 404, person.display_name
    login(client, mother)
    for item in (private, for_class, draft):
        assert _react(client, item.id).status_code == 404, item.title
    assert _react(client, 999_999).status_code == 404
    assert _react(client, shared.id, "thumbs-down").status_code == 400
    assert _reactions(session) == []


def test_where_the_class_asks_for_approval_only_approved_items_take_reactions(client, session):
    _school, _teacher, maya, _sam, mother, _father = _families(session, approval=True)
    waiting = make_note(session, maya, title="Waiting", audience=Audience.family)
    approved = make_note(session, maya, title="Approved", audience=Audience.family)
    _approve(session, None, approved.id)
    login(client, mother)
    assert _react(client, waiting.id).status_code == 404
    assert _react(client, approved.id).status_code == 303
    assert _reactions(session) == [(approved.id, mother.id, ReactionKind.heart)]


def test_an_ended_link_hides_the_reactions_and_a_deleted_item_takes_them_along(client, new_client, session):
    _school, _teacher, maya, _sam, mother, _father = _families(session)
    note = make_note(session, maya, title="Garden", audience=Audience.family)
    login(client, mother)
    assert _react(client, note.id).status_code == 303
    owner = new_client()
    login(owner, maya)
    assert "Maya's mother reacted." in _thread(owner, "artefact", note.id)
    assert owner.post(f"/my-family/{mother.id}/remove").status_code == 303
    assert "reacted." not in _thread(owner, "artefact", note.id)
    assert _react(client, note.id).status_code == 404
    assert owner.post(f"/artefacts/{note.id}/delete").status_code == 303
    assert _reactions(session) == []

"""The audience rule for the items of many students at once (access.visible_among_owners) agrees with the rule for one
item (can_see), for one student's items (visible_among) and in SQL (visible_items), whoever looks."""

from __future__ import annotations

from itertools import zip_longest

from sqlmodel import select

from app.access import can_see, relationships, visible_among, visible_among_owners
from app.access.loaders import is_draft
from app.access.rules import visible_items
from app.models import ApprovalStatus, Audience, Item, ItemApproval, Role, Showcase
from tests.digest_world import make_goal
from tests.factories import link_guardian, make_class, make_note, make_reflection, make_school, make_user


def _items_of(session, owner, *, approved_note: bool = False) -> list:
    """One item of each audience and kind, a draft, and recordings that belong to a reflection and a photo."""
    items = [make_note(session, owner, title=f"{owner.display_name} {audience.value}", audience=audience)
             for audience in Audience]
    items.append(make_reflection(session, owner, title="Published", audience=Audience.family))
    items.append(make_reflection(session, owner, title="Draft", audience=Audience.family, draft=True))
    items.append(make_reflection(session, owner, title="Class thoughts", audience=Audience.class_))
    items.append(make_goal(session, owner, "Family goal"))
    items.append(make_goal(session, owner, "Class goal", audience=Audience.class_))
    spoken = make_note(session, owner, title="Spoken reflection", audience=Audience.family)
    caption = make_note(session, owner, title="Spoken caption", audience=Audience.class_)
    items[-3].audio_artefact_id = spoken.id  # the class reflection's recording
    items[0].audio_artefact_id = caption.id  # the private note's spoken caption
    session.add_all([items[-3], items[0]])
    if approved_note:
        items.append(make_note(session, owner, title="Approved", audience=Audience.family))
    session.commit()
    if approved_note:
        approval = session.exec(select(ItemApproval).where(ItemApproval.item_id == items[-1].id)).one()
        approval.status = ApprovalStatus.approved
        session.add(approval)
        session.commit()
    return [*items, spoken, caption]


def test_the_rule_for_many_owners_agrees_with_the_rule_for_one(session, count_queries):
    school = make_school(session)
    teacher, careful_teacher, past_teacher = (make_user(session, school, Role.teacher) for _ in range(3))
    maya, sam, leo, zoe = (make_user(session, school, Role.student, display_name=name)
                           for name in ("Maya", "Sam", "Leo", "Zoe"))
    make_class(session, school, teachers=[teacher], students=[maya, sam])  # classmates see class items
    careful = make_class(session, school, teachers=[careful_teacher], students=[leo, zoe])
    careful.classmates_see_class_items, careful.family_items_need_approval = False, True
    past = make_class(session, school, teachers=[past_teacher], students=[maya, leo])
    past.archived = True
    session.add_all([careful, past])
    session.commit()
    mother, father, stranger, removed = (make_user(session, school, Role.guardian) for _ in range(4))
    link_guardian(session, mother, maya)
    link_guardian(session, mother, leo)
    link_guardian(session, father, leo)
    link_guardian(session, stranger, zoe)
    link_guardian(session, removed, maya)
    relationships.unlink(session=session, guardian_id=removed.id, student_id=maya.id)
    session.commit()
    admin = make_user(session, school, Role.admin)
    elsewhere = make_user(session, make_school(session), Role.student)

    mine = {maya.id: _items_of(session, maya), leo.id: _items_of(session, leo, approved_note=True)}
    # Interleaved, as a digest's rows come: the answer keeps this order.
    pairs = [pair for row in zip_longest(*([(owner_id, item) for item in items] for owner_id, items in mine.items()))
             for pair in row if pair is not None]
    recordings = {item.id for items in mine.values() for item in items[-2:]}

    viewers = {"maya": maya, "sam": sam, "leo": leo, "zoe": zoe, "teacher": teacher, "careful teacher": careful_teacher,
               "past teacher": past_teacher, "mother": mother, "father": father, "stranger": stranger,
               "removed": removed, "admin": admin, "elsewhere": elsewhere}
    seen = {}
    for name, viewer in viewers.items():
        with count_queries() as counter:
            together = visible_among_owners(session=session, viewer=viewer, pairs=pairs)
        assert counter.count <= 4, name
        per_owner = {owner_id: visible_among(session=session, viewer=viewer, owner_id=owner_id, items=items)
                     for owner_id, items in mine.items()}
        assert together == [item for owner_id, item in pairs if item in per_owner[owner_id]], name
        one_by_one = [item for owner_id, item in pairs if can_see(
            session=session, viewer=viewer, owner_id=owner_id, audience=item.audience, draft=is_draft(item),
            item_id=item.id)]
        # can_see answers for an item's page; a recording is heard there but never listed to anyone but its owner.
        assert together == [item for item in one_by_one if item.owner_id == viewer.id or item.id not in recordings], name
        in_sql = set(session.exec(select(Item.id).where(Item.id.in_([item.id for _o, item in pairs]),
                                                        visible_items(viewer))).all())
        assert {item.id for item in together} == in_sql, name
        seen[name] = sorted(f"{'Maya' if item.owner_id == maya.id else 'Leo'}: {item.title}" for item in together)

    assert seen["mother"] == ["Leo: Approved", "Maya: Family goal", "Maya: Maya family", "Maya: Published"]
    assert seen["father"] == ["Leo: Approved"]
    assert seen["sam"] == ["Maya: Class goal", "Maya: Class thoughts", "Maya: Maya class"]
    assert len(seen["teacher"]) == len(mine[maya.id]) - 3  # not the draft, nor the two recordings
    assert all(title.startswith("Leo: ") for title in seen["careful teacher"]) and seen["careful teacher"]
    assert len(seen["maya"]) == len(mine[maya.id])  # all her own, drafts and recordings too
    for nobody in ("zoe", "past teacher", "stranger", "removed", "admin", "elsewhere"):
        assert seen[nobody] == [], nobody


def test_the_showcases_of_many_owners_follow_the_rule_for_one(session, count_queries):
    from app.services.showcases.showcase_items import can_see_showcase, showcases_visible_among, showcases_visible_to
    from app.services.showcases.showcases import ShowcaseInput, create_showcase

    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    maya, sam, leo = (make_user(session, school, Role.student, display_name=name) for name in ("Maya", "Sam", "Leo"))
    make_class(session, school, teachers=[teacher], students=[maya, sam])
    careful = make_class(session, school, students=[leo])
    careful.family_items_need_approval = True
    session.add(careful)
    mother, stranger = make_user(session, school, Role.guardian), make_user(session, school, Role.guardian)
    link_guardian(session, mother, maya)
    link_guardian(session, mother, leo)
    link_guardian(session, stranger, sam)
    for owner in (maya, leo):
        for audience in (*Audience, Audience.family):
            create_showcase(session=session, owner=owner, data=ShowcaseInput(title=f"{owner.display_name} {audience.value}",
                                                                              audience=audience))
    session.commit()
    waiting = session.exec(select(ItemApproval).where(ItemApproval.showcase_id.is_not(None))).all()
    assert len(waiting) == 2  # Leo's two family showcases: one approved, one not
    waiting[0].status = ApprovalStatus.approved
    session.add(waiting[0])
    session.commit()

    seen = {}
    for name, viewer in {"maya": maya, "sam": sam, "leo": leo, "teacher": teacher, "mother": mother,
                         "stranger": stranger}.items():
        with count_queries() as counter:
            together = showcases_visible_among(session=session, viewer=viewer, owner_ids=[maya.id, leo.id])
        assert counter.count <= 4, name
        for owner in (maya, leo):
            one = showcases_visible_to(session=session, viewer=viewer, owner_id=owner.id)
            assert together[owner.id] == one, name
            assert {s.id for s in one} == {s.id for s in session.exec(select(Showcase).where(
                Showcase.owner_id == owner.id)).all() if can_see_showcase(session=session, viewer=viewer, showcase=s)}
        seen[name] = sorted(s.title for owner_id in together for s in together[owner_id])
    assert seen["mother"] == ["Leo family", "Maya family", "Maya family"]
    assert seen["sam"] == ["Maya class"]
    assert seen["teacher"] == ["Maya class", "Maya family", "Maya family", "Maya private"]
    assert seen["stranger"] == []
    assert len(seen["maya"]) == 4 and seen["leo"] == ["Leo class", "Leo family", "Leo family", "Leo private"]

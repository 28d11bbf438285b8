"""What points at an item goes with it: the reproductions of the review, over HTTP, on both databases.

Before items were rows, comments, requests, approvals and showcase entries named an item by (type, id) with no
foreign key; they outlived a deleted item, and SQLite handed the same id to the next item, so a teacher's comment
about Maya appeared on Noah's new note (and to Noah's family), and a stale request put a private title in an inbox.
"""

from __future__ import annotations

import re

from sqlmodel import select

from app.models import Audience, Comment, FeedbackRequest, ItemApproval, Notification, Role, ShowcaseItem
from tests.factories import link_guardian, login, make_class, make_note, make_school, make_user


def _world(session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    maya = make_user(session, school, display_name="Maya")
    noah = make_user(session, school, display_name="Noah")
    noahs_family = make_user(session, school, Role.guardian, display_name="Noah's mum")
    make_class(session, school, teachers=[teacher], students=[maya, noah])
    link_guardian(session, noahs_family, noah)
    return teacher, maya, noah, noahs_family


def _clients(new_client, *users):
    clients = []
    for user in users:
        client = new_client()
        login(client, user)
        clients.append(client)
    return clients


def test_a_deleted_items_comments_never_reach_the_next_item(session, new_client):
    teacher, maya, noah, noahs_family = _world(session)
    staff, as_maya, as_noah, as_family = _clients(new_client, teacher, maya, noah, noahs_family)
    note = make_note(session, maya, title="Maya's bridge", audience=Audience.family)
    comment = staff.post(f"/feedback/comments?item_type=artefact&item_id={note.id}",
                         data={"body": "Maya, your bridge needs a second support."})
    assert comment.status_code == 303
    assert as_maya.post(f"/artefacts/{note.id}/delete").status_code == 303
    assert session.exec(select(Comment)).all() == []  # gone with the item, in the database
    # Noah's next note gets a new id, never Maya's old one, and nothing hangs off it.
    created = as_noah.post("/artefacts/note", data={"title": "Noah's poem", "body": "words", "audience": "family"})
    noahs_id = int(re.search(r"artefact=(\d+)", created.headers["location"]).group(1))
    assert noahs_id > note.id
    for client in (as_noah, as_family, staff):
        thread = client.get(f"/feedback/thread?item_type=artefact&item_id={noahs_id}")
        assert thread.status_code == 200 and "second support" not in thread.text
    assert "second support" not in as_family.get(f"/family/children/{noah.id}").text
    assert as_maya.get(f"/feedback/thread?item_type=artefact&item_id={note.id}").status_code == 404


def test_a_stale_request_never_puts_a_deleted_items_title_in_an_inbox(session, new_client):
    teacher, maya, _noah, _family = _world(session)
    staff, as_maya = _clients(new_client, teacher, maya)
    note = make_note(session, maya, title="Private diary entry", audience=Audience.class_)
    asked = as_maya.post("/feedback/requests", data={"item_type": "artefact", "item_id": str(note.id),
                                                     "question": "Is it clear?", "recipient_ids": [str(teacher.id)]})
    assert asked.status_code == 303
    assert "Private diary entry" in staff.get("/inbox").text
    assert as_maya.post(f"/artefacts/{note.id}/delete").status_code == 303
    session.expire_all()
    assert session.exec(select(FeedbackRequest)).all() == []
    assert "Private diary entry" not in staff.get("/inbox").text
    # Notifications named it: they went with it too.
    assert not [n for n in session.exec(select(Notification)).all() if "Private diary" in str(n.params)]


def test_an_approval_and_a_showcase_entry_go_with_their_item(session, new_client):
    teacher, maya, _noah, _family = _world(session)
    (as_maya,) = _clients(new_client, maya)
    note = make_note(session, maya, title="Bridge", audience=Audience.family)
    note_id = note.id
    session.add(ItemApproval(item_id=note.id, owner_id=maya.id))
    session.commit()
    created = as_maya.post("/showcases/new", data={"title": "Term one", "audience": "private", "introduction": ""})
    showcase_id = int(re.search(r"/showcases/(\d+)", created.headers["location"]).group(1))
    assert as_maya.post(f"/showcases/{showcase_id}/items", data={"item_type": "artefact",
                                                                 "item_id": str(note.id)}).status_code == 303
    assert as_maya.post(f"/artefacts/{note.id}/delete").status_code == 303
    session.expire_all()
    assert session.exec(select(ItemApproval)).all() == []
    assert session.exec(select(ShowcaseItem)).all() == []
    page = as_maya.get(f"/showcases/{showcase_id}").text
    assert f"/artefacts/{note_id}" not in page and "Bridge</" not in page

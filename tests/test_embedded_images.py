"""A picture an imported Mahara journal post shows comes in as a private file of the student's, but it is seen with
the post: by exactly whoever may read the post (its teacher, the family once it is shared with them, a secret link of
a showcase that holds it), on the post's page, the secret link, the PDF and the family feed; nobody else, and nowhere
on its own."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from app.models import Artefact, Audience, Reflection, Role, ShowcaseItemType
from app.services.exports.pdf_content import gather_portfolio
from app.services.exports.pdf_export import make_url_fetcher
from app.services.exports.pdf_render import FILE_SCHEME, render_html
from app.services.portfolio import timeline
from app.services.showcases import share_links
from app.services.showcases.showcases import ShowcaseInput, add_item, create_showcase
from tests.api_tokens import bearer, make_token
from tests.factories import link_guardian, login, make_class, make_school, make_user
from tests.test_mahara_import import app, imported  # noqa: F401 (the app with the import routes)

pytestmark = pytest.mark.storage


def _share(session, reflection: Reflection, audience: Audience) -> None:
    reflection.audience = audience
    session.add(reflection)
    timeline.sync_reflection(session=session, reflection=reflection)
    session.commit()


def test_a_picture_a_journal_post_shows_is_seen_with_the_post_and_no_wider(app, client, new_client, session, settings):  # noqa: F811
    school = make_school(session)
    student, teacher = make_user(session, school), make_user(session, school, Role.teacher)
    classmate, stranger = make_user(session, school), make_user(session, school)
    guardian = make_user(session, school, Role.guardian)
    make_class(session, school, teachers=[teacher], students=[student, classmate])
    link_guardian(session, guardian, student)
    imported(app, client, session, settings, student)
    river = session.exec(select(Artefact).where(Artefact.owner_id == student.id, Artefact.title == "river.png")).one()
    trip = session.exec(select(Reflection).where(Reflection.owner_id == student.id,
                                                 Reflection.title == "At the river")).one()
    assert river.audience is Audience.private and f"](/files/{river.id}/large)" in trip.body
    picture = f"/files/{river.id}/large"

    viewers = {}
    for name, person in (("teacher", teacher), ("family", guardian), ("classmate", classmate),
                         ("stranger", stranger)):
        viewers[name] = new_client()
        login(viewers[name], person)

    def seen_by() -> set[str]:
        return {name for name, viewer in viewers.items() if viewer.get(picture).status_code == 200}

    # Private, as it came in: the teacher reads every post but drafts, so sees it; nobody else.
    assert seen_by() == {"teacher"}
    # Shared with the family: the family reads it, and sees its picture on its page and in the feed.
    _share(session, trip, Audience.family)
    assert seen_by() == {"teacher", "family"}
    page = viewers["family"].get(f"/reflections/{trip.id}")
    assert page.status_code == 200 and f'<img src="{picture}" alt="The river">' in page.text
    feed = viewers["family"].get(f"/family/children/{student.id}").text
    assert f'src="/files/{river.id}/small"' in feed
    assert viewers["family"].get(f"/files/{river.id}/small").status_code == 200
    # No wider: the picture's own page, and any list, stay the student's.
    assert viewers["family"].get(f"/artefacts/{river.id}").status_code == 404
    # Shared with the class: classmates read it; the family no longer does.
    _share(session, trip, Audience.class_)
    assert seen_by() == {"teacher", "classmate"}
    # Only a post that shows it counts: another student's post naming the file shows nothing of it.
    other_post = Reflection(owner_id=classmate.id, title="Copied", body=f"![x]({picture})", audience=Audience.class_)
    session.add(other_post)
    session.commit()
    _share(session, trip, Audience.private)
    assert seen_by() == {"teacher"}

    # A secret link of a showcase holding the post shows the picture at the link's own address; another's doesn't.
    showcase = create_showcase(session=session, owner=student, data=ShowcaseInput(title="My trip"))
    add_item(session=session, owner=student, showcase=showcase, item_type=ShowcaseItemType.reflection, item_id=trip.id)
    empty = create_showcase(session=session, owner=student, data=ShowcaseInput(title="Nothing yet"))
    _link, token = share_links.create_link(session=session, owner=student, showcase=showcase,
                                           expires_on=date.today() + timedelta(days=7), address=None)
    _link, other_token = share_links.create_link(session=session, owner=student, showcase=empty,
                                                 expires_on=date.today() + timedelta(days=7), address=None)
    session.commit()
    visitor = new_client()
    shared = visitor.get(f"/s/{token}")
    assert shared.status_code == 200 and f'<img src="/s/{token}/files/{river.id}/large" alt="The river">' in shared.text
    assert f'src="{picture}"' not in shared.text
    assert visitor.get(f"/s/{token}/files/{river.id}/large").status_code == 200
    assert visitor.get(f"/s/{other_token}/files/{river.id}/large").status_code == 404

    # The PDF prints it with the post.
    content = gather_portfolio(session=session, settings=settings, student=student, sections=["reflections"])
    html = render_html(content=content, settings=settings)
    assert f'<img src="{FILE_SCHEME}{river.id}-large" alt="The river">' in html
    fetcher = make_url_fetcher(settings=settings, student=student, files=content.files)
    assert fetcher.path_for(f"{FILE_SCHEME}{river.id}-large")


def test_the_api_shows_and_serves_a_posts_picture_to_whoever_may_read_the_post(app, client, new_client, session,  # noqa: F811
                                                                               settings):
    school = make_school(session)
    student, teacher, stranger = make_user(session, school), make_user(session, school, Role.teacher), make_user(
        session, school)
    guardian = make_user(session, school, Role.guardian)
    make_class(session, school, teachers=[teacher], students=[student])
    link_guardian(session, guardian, student)
    imported(app, client, session, settings, student)
    river = session.exec(select(Artefact).where(Artefact.owner_id == student.id, Artefact.title == "river.png")).one()
    trip = session.exec(select(Reflection).where(Reflection.owner_id == student.id,
                                                 Reflection.title == "At the river")).one()
    tokens = {}
    for name, person in (("teacher", teacher), ("family", guardian), ("stranger", stranger)):
        browser = new_client()
        login(browser, person)
        tokens[name] = bearer(make_token(browser))
    picture = {"file_id": river.id, "api_url": f"/api/v1/files/{river.id}/large"}

    # The teacher reads the private post, is told of its picture, and fetches it with the token.
    for address in (f"/api/v1/items/{trip.id}", f"/api/v1/reflections/{trip.id}"):
        read = client.get(address, headers=tokens["teacher"])
        assert read.status_code == 200 and read.json()["pictures"] == [picture]
    fetched = client.get(picture["api_url"], headers=tokens["teacher"])
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/webp"
    assert client.get(f"/api/v1/files/{river.id}/original", headers=tokens["teacher"]).status_code == 200
    # Shared with the family, the post brings its private picture with it for them, and no wider: the picture as an
    # item of its own stays the student's.
    assert client.get(f"/api/v1/items/{trip.id}", headers=tokens["family"]).status_code == 404
    assert client.get(picture["api_url"], headers=tokens["family"]).status_code == 404
    _share(session, trip, Audience.family)
    assert client.get(f"/api/v1/items/{trip.id}", headers=tokens["family"]).json()["pictures"] == [picture]
    assert client.get(picture["api_url"], headers=tokens["family"]).status_code == 200
    assert client.get(f"/api/v1/items/{river.id}", headers=tokens["family"]).status_code == 404
    # Another student reads neither the post nor its picture.
    assert client.get(f"/api/v1/items/{trip.id}", headers=tokens["stranger"]).status_code == 404
    refused = client.get(picture["api_url"], headers=tokens["stranger"])
    assert refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"

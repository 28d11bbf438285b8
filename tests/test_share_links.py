"""Secret links: made once, shown once, hashed at rest; they open one showcase read-only until they expire, are
revoked, or a teacher turns them off."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app import storage
from app.models import (
    Artefact, ArtefactKind, Audience, MediaKind, Role, SchoolClass, ShareLink, ShareLinkView, Showcase, ShowcaseItem,
)
from app.models.base import utcnow
from tests.factories import login, make_class, make_note, make_reflection, make_school, make_user

pytestmark = pytest.mark.storage  # on the upload folder and on an S3 server

# --- helpers -------------------------------------------------------------------------------------


def student_in_class(session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    student = make_user(session, school)
    school_class = make_class(session, school, teachers=[teacher], students=[student])
    return school, school_class, teacher, student


def new_showcase(client, title="Spring showcase", audience="private", introduction="Welcome to my **work**") -> int:
    response = client.post("/showcases/new", data={"title": title, "audience": audience, "introduction": introduction})
    assert response.status_code == 303
    return int(re.fullmatch(r"/showcases/(\d+)/items/new", response.headers["location"]).group(1))


def add(client, showcase_id: int, item_type: str, item_id: int) -> None:
    response = client.post(f"/showcases/{showcase_id}/items", data={"item_type": item_type, "item_id": str(item_id)})
    assert response.status_code == 303


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def make_link(client, showcase_id: int, days: int = 7) -> str:
    """Make a link through the form; the token from the once-only page."""
    response = client.post(f"/showcases/{showcase_id}/links", data={"expires_on": in_days(days)})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    match = re.search(r'value="http://testserver/s/([A-Za-z0-9_-]+)"', response.text)
    assert match, response.text
    return match.group(1)


def make_file(session, settings, owner, *, title: str, name: str, content: bytes = b"hello") -> Artefact:
    store = storage.uploads(settings)
    scratch = store.new_scratch_path()
    scratch.write_bytes(content)
    store.put_file(name, scratch)
    artefact = Artefact(owner_id=owner.id, kind=ArtefactKind.file, title=title, occurred_on=date.today(),
                        stored_name=name, original_name=f"{title}.txt", content_type="text/plain",
                        media_kind=MediaKind.text, size_bytes=len(content))
    session.add(artefact)
    session.commit()
    return artefact


# --- making and using a link ---------------------------------------------------------------------


def test_a_link_opens_the_showcase_without_signing_in_and_counts_visits(client, session, new_client, settings):
    _school, _class, _teacher, student = student_in_class(session)
    private_note = make_note(session, student, title="Private volcano", body="Lava *flows*")
    make_note(session, student, title="Not in the showcase", audience=Audience.family)
    file = make_file(session, settings, student, title="Lab report", name="report.txt", content=b"results")
    login(client, student)
    showcase_id = new_showcase(client)
    add(client, showcase_id, "artefact", private_note.id)
    add(client, showcase_id, "artefact", file.id)
    entry_id = session.exec(select(ShowcaseItem.id).where(ShowcaseItem.showcase_id == showcase_id)).first()
    client.post(f"/showcases/{showcase_id}/items/{entry_id}/points", data={"talking_points": "Mention the eruption"})
    token = make_link(client, showcase_id)
    assert "can't show you this address again" in make_link_page_text(client, showcase_id)

    visitor = new_client()
    response = visitor.get(f"/s/{token}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    assert response.headers["referrer-policy"] == "no-referrer"
    page = response.text
    assert "Spring showcase" in page and "<strong>work</strong>" in page
    assert "Private volcano" in page and "<em>flows</em>" in page and "Lab report" in page
    assert "Mention the eruption" not in page and "Not in the showcase" not in page
    # No way into the rest of Folio: every address on the page is a stylesheet, an image or this link's files.
    for href in re.findall(r'(?:href|src|action)="([^"]+)"', page):
        assert href == "#main" or href.startswith("/static/") or href.startswith(f"/s/{token}/files/"), href
    assert "site-nav" not in page
    assert visitor.get(f"/s/{token}/files/{file.id}/original").content == b"results"

    session.expire_all()
    assert session.exec(select(sa.func.count(ShareLinkView.id))).one() == 1
    visitor.get(f"/s/{token}")
    owner_page = client.get(f"/showcases/{showcase_id}").text
    assert "2 times" in owner_page
    assert "secret links opened 2 times" in client.get("/showcases").text


def make_link_page_text(client, showcase_id: int) -> str:
    return client.post(f"/showcases/{showcase_id}/links", data={"expires_on": in_days(1)}).text.replace("&#39;", "'")


def test_the_token_is_stored_only_as_its_hash(client, session):
    *_, student = student_in_class(session)
    login(client, student)
    showcase_id = new_showcase(client)
    token = make_link(client, showcase_id)
    assert len(token) >= 43  # 32 random bytes, base64url
    link = session.exec(select(ShareLink)).one()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    with session.connection() as connection:
        for table in ("share_links", "share_link_views", "showcases"):
            rows = connection.execute(sa.text(f"SELECT * FROM {table}")).all()
            assert token not in repr(rows), table
    # The once-only page is not shown again: the showcase page has no token on it.
    assert token not in client.get(f"/showcases/{showcase_id}").text


def test_a_link_shows_that_showcase_only(client, session, new_client, settings):
    *_, student = student_in_class(session)
    shown = make_file(session, settings, student, title="Shown", name="shown.txt", content=b"shown")
    elsewhere = make_file(session, settings, student, title="Elsewhere", name="elsewhere.txt", content=b"elsewhere")
    reflection = make_reflection(session, student, title="Thinking it over")
    login(client, student)
    showcase_id = new_showcase(client, title="Linked one")
    add(client, showcase_id, "artefact", shown.id)
    add(client, showcase_id, "reflection", reflection.id)
    other_id = new_showcase(client, title="Other one")
    add(client, other_id, "artefact", elsewhere.id)
    token = make_link(client, showcase_id)

    visitor = new_client()
    page = visitor.get(f"/s/{token}").text
    assert "Linked one" in page and "Thinking it over" in page and "Other one" not in page and "Elsewhere" not in page
    assert visitor.get(f"/s/{token}/files/{shown.id}/original").status_code == 200
    # The student's own file, in another showcase: not through this link, even for the student.
    assert visitor.get(f"/s/{token}/files/{elsewhere.id}/original").status_code == 404
    assert client.get(f"/s/{token}/files/{elsewhere.id}/original").status_code == 404
    assert visitor.get(f"/s/{token}/files/{shown.id}/large").status_code == 404  # not an image
    assert visitor.get(f"/s/{token}/files/{shown.id}/../../{elsewhere.id}/original").status_code == 404
    # Nothing about other showcases, or the student's pages.
    for url in (f"/showcases/{other_id}", f"/showcases/{showcase_id}", f"/files/{shown.id}/original"):
        assert visitor.get(url).status_code == 303  # to the sign-in page
    # A reflection turned back into a draft disappears from the link.
    session.exec(sa.update(type(reflection)).where(type(reflection).id == reflection.id).values(status="draft"))
    session.commit()
    assert "Thinking it over" not in visitor.get(f"/s/{token}").text


def test_expired_revoked_and_unknown_links_answer_404(client, session, new_client):
    *_, student = student_in_class(session)
    login(client, student)
    showcase_id = new_showcase(client, title="Soon gone")
    expiring, revoked = make_link(client, showcase_id), make_link(client, showcase_id)
    visitor = new_client()
    assert visitor.get(f"/s/{expiring}").status_code == 200
    assert visitor.get(f"/s/{revoked}").status_code == 200

    hashed = hashlib.sha256(expiring.encode()).hexdigest()
    session.exec(sa.update(ShareLink).where(ShareLink.token_hash == hashed).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    response = visitor.get(f"/s/{expiring}")
    assert response.status_code == 404 and "Soon gone" not in response.text

    revoked_id = session.exec(select(ShareLink.id).where(ShareLink.token_hash == hashlib.sha256(revoked.encode()).hexdigest())).one()
    assert client.post(f"/showcases/{showcase_id}/links/{revoked_id}/revoke").status_code == 303
    assert visitor.get(f"/s/{revoked}").status_code == 404
    listing = client.get(f"/showcases/{showcase_id}").text
    assert "Expired" in listing and "Turned off on" in listing

    assert visitor.get("/s/not-a-real-token").status_code == 404
    assert visitor.get(f"/s/{revoked[:-1]}").status_code == 404
    session.expire_all()
    assert session.exec(select(sa.func.count(ShareLinkView.id))).one() == 2  # only the visits that worked


def test_links_stop_when_a_teacher_turns_them_off_for_the_class(client, session, new_client):
    _school, school_class, teacher, student = student_in_class(session)
    login(client, student)
    showcase_id = new_showcase(client, title="Paused show")
    token = make_link(client, showcase_id)
    visitor = new_client()
    assert visitor.get(f"/s/{token}").status_code == 200

    teacher_browser = new_client()
    login(teacher_browser, teacher)
    assert 'name="secret_links_allowed"' in teacher_browser.get(f"/classes/{school_class.id}/settings").text
    assert teacher_browser.post(f"/classes/{school_class.id}/settings", data={"classmates_see_class_items": "true"}).status_code == 303
    session.expire_all()
    assert session.get(SchoolClass, school_class.id).secret_links_allowed is False

    assert visitor.get(f"/s/{token}").status_code == 404
    page = client.get(f"/showcases/{showcase_id}").text
    assert "turned secret links off for" in page and school_class.name in page and "Make a secret link" not in page
    response = client.post(f"/showcases/{showcase_id}/links", data={"expires_on": in_days(3)})
    assert response.status_code == 422
    assert session.exec(select(sa.func.count(ShareLink.id))).one() == 1

    teacher_browser.post(f"/classes/{school_class.id}/settings",
                         data={"classmates_see_class_items": "true", "secret_links_allowed": "true"})
    assert visitor.get(f"/s/{token}").status_code == 200


def test_the_expiry_date_must_be_after_today_and_within_the_limit(client, session, settings):
    *_, student = student_in_class(session)
    login(client, student)
    showcase_id = new_showcase(client)
    form = client.get(f"/showcases/{showcase_id}").text
    assert f'value="{in_days(settings.share_link_days)}"' in form  # the default: as long as allowed
    for bad, message in ((in_days(-1), "after today"), (in_days(0), "after today"),
                         (in_days(settings.share_link_days + 1), "at most 30 days"), ("soon", "Use a date like")):
        response = client.post(f"/showcases/{showcase_id}/links", data={"expires_on": bad})
        assert response.status_code == 422, bad
        assert message in response.text, bad
    assert session.exec(select(ShareLink)).all() == []
    make_link(client, showcase_id, days=settings.share_link_days)
    link = session.exec(select(ShareLink)).one()
    expires = link.expires_at if link.expires_at.tzinfo else link.expires_at.replace(tzinfo=utcnow().tzinfo)
    assert timedelta(days=settings.share_link_days) < expires - utcnow() <= timedelta(days=settings.share_link_days + 1)


def test_deleting_a_showcase_ends_its_links(client, session, new_client):
    *_, student = student_in_class(session)
    login(client, student)
    showcase_id = new_showcase(client)
    token = make_link(client, showcase_id)
    visitor = new_client()
    visitor.get(f"/s/{token}")
    assert client.post(f"/showcases/{showcase_id}/delete").status_code == 303
    assert visitor.get(f"/s/{token}").status_code == 404
    session.expire_all()
    assert session.exec(select(ShareLink)).all() == [] and session.get(Showcase, showcase_id) is None


def test_the_shared_page_query_count_does_not_grow_with_its_items(client, session, new_client, count_queries):
    *_, student = student_in_class(session)
    login(client, student)
    showcase_id = new_showcase(client)
    token = make_link(client, showcase_id)
    visitor = new_client()
    counts = []
    made = 0
    for size in (3, 20):
        while made < size:
            if made % 2:
                add(client, showcase_id, "reflection", make_reflection(session, student, title=f"R{made}").id)
            else:
                add(client, showcase_id, "artefact", make_note(session, student, title=f"N{made}").id)
            made += 1
        with count_queries() as counter:
            response = visitor.get(f"/s/{token}")
        assert response.status_code == 200 and f"N{size - 1 if (size - 1) % 2 == 0 else size - 2}" in response.text
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_a_huge_file_id_through_a_link_is_just_not_found(client, session, new_client):
    *_, student = student_in_class(session)
    login(client, student)
    token = make_link(client, new_showcase(client))
    assert new_client().get(f"/s/{token}/files/{2**31 + 5}/original").status_code == 404

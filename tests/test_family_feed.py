"""The family feed (the family home and a child's page): picture cards with the item's media, short text, the teacher's
words and reactions, a page at a time, in a constant number of queries; and the teacher's view of a feedback request."""

from html import unescape

from sqlmodel import select

from app.models import Audience, Reflection, Role
from tests.factories import link_guardian, login, make_note, make_reflection, make_user, post_multipart
from tests.test_caption_media import _captioned_photo
from tests.test_family_access import _families, _goal, _image
from tests.test_filetypes import wav_bytes


def _spoken(session, client, title: str) -> Reflection:
    response = post_multipart(client, "/reflections", {"title": title, "body": "Why I chose red", "audience": "family",
                                                       "action": "publish"},
                              files={"audio": ("voice.wav", wav_bytes(), "audio/wav")})
    assert response.status_code == 303, response.text
    session.expire_all()
    return session.exec(select(Reflection).where(Reflection.title == title)).one()


def _teacher_says(client, item_type: str, item_id: int, body: str) -> None:
    response = client.post(f"/feedback/comments?item_type={item_type}&item_id={item_id}", data={"body": body})
    assert response.status_code == 303, response.text


def test_the_feed_shows_pictures_recordings_words_and_the_teachers_comment(client, new_client, session):
    _school, teacher, maya, _sam, mother, _father = _families(session)
    student = new_client()
    login(student, maya)
    picture = _image(session, student, maya, "Volcano")
    spoken = _spoken(session, student, "My painting")
    note = make_note(session, maya, title="Garden diary", body="The beans are **taller** than me", audience=Audience.family)
    _goal(session, maya, title="Read more")
    staff = new_client()
    login(staff, teacher)
    _teacher_says(staff, "artefact", picture.id, "What a careful diagram of the layers!")

    login(client, mother)
    for url in (f"/family/children/{maya.id}", "/family"):
        page = unescape(client.get(url).text)
        # A picture links to the full size; a recording plays; a note shows its words, not a file name.
        assert f'href="/files/{picture.id}/original"' in page and f'src="/files/{picture.id}/small"' in page, url
        assert f'src="/files/{spoken.audio_artefact_id}/original"' in page and "Why I chose red" in page
        assert "The beans are taller than me" in page and "Read more" in page
        assert "Ms Rivera, their teacher, says:" in page and "What a careful diagram of the layers!" in page
        assert f'action="/items/{note.id}/reactions"' in page and "Well done" in page
    assert "<strong>Maya</strong>" in client.get("/family").text  # the home mixes children: each card names theirs


def test_the_feed_comes_a_page_at_a_time(client, session):
    _school, _teacher, maya, _sam, mother, _father = _families(session)
    for n in range(14):
        make_note(session, maya, title=f"Note {n:02d}", audience=Audience.family)
    login(client, mother)
    first = unescape(client.get(f"/family/children/{maya.id}").text)
    second = unescape(client.get(f"/family/children/{maya.id}?page=2").text)
    assert "Page 1 of 2" in first and "Note 13" in first and "Note 00" not in first
    assert "Note 00" in second and "Note 13" not in second


def test_a_family_home_without_shared_items_is_kind(client, session):
    _school, _teacher, maya, _sam, mother, _father = _families(session)
    make_note(session, maya, title="Just mine", audience=Audience.private)
    login(client, mother)
    page = client.get("/family")
    assert page.status_code == 200
    assert "Nothing shared with you yet." in unescape(page.text) and "Just mine" not in page.text


def test_feed_queries_do_not_grow_with_pictures_captions_comments_and_reactions(client, new_client, session, count_queries):
    school, teacher, maya, sam, mother, _father = _families(session)
    link_guardian(session, mother, sam)
    grandma = make_user(session, school, Role.guardian, display_name="Grandma Rosa")
    link_guardian(session, grandma, maya)
    student, staff, granny = new_client(), new_client(), new_client()
    login(student, maya)
    login(staff, teacher)
    login(granny, grandma)
    login(client, mother)

    def share(n: int, start: int) -> None:
        for i in range(start, start + n):
            picture, _caption = _captioned_photo(session, student, maya, f"Picture {i}", "family")
            reflection = make_reflection(session, maya, title=f"Reflection {i}", audience=Audience.family)
            _teacher_says(staff, "artefact", picture.id, f"Lovely {i}")
            for item_id in (picture.id, reflection.id):
                assert granny.post(f"/items/{item_id}/reactions", data={"kind": "heart"}).status_code == 303
                assert client.post(f"/items/{item_id}/reactions", data={"kind": "star"}).status_code == 303

    def measure(url: str) -> int:
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200
        return counter.count

    share(1, 0)
    few = measure("/family"), measure(f"/family/children/{maya.id}")
    share(4, 1)
    many = measure("/family"), measure(f"/family/children/{maya.id}")
    assert "Lovely 4" in client.get(f"/family/children/{maya.id}").text
    assert many == few, (few, many)


def test_a_teacher_sees_the_question_they_were_asked_above_the_comment_form(client, new_client, session):
    _school, teacher, maya, _sam, _mother, _father = _families(session)
    note = make_note(session, maya, title="Essay", audience=Audience.class_)
    student = new_client()
    login(student, maya)
    response = student.post("/feedback/requests", data={"item_type": "artefact", "item_id": str(note.id),
                                                         "question": "Is my conclusion clear?",
                                                         "recipient_ids": [str(teacher.id)]})
    assert response.status_code == 303, response.text

    login(client, teacher)
    thread = unescape(client.get(f"/feedback/thread?item_type=artefact&item_id={note.id}").text)
    assert "Maya asked you:" in thread and "Is my conclusion clear?" in thread
    assert thread.index("Is my conclusion clear?") < thread.index('name="body"')
    # Once answered, the question no longer waits above the form.
    assert client.post(f"/feedback/comments?item_type=artefact&item_id={note.id}",
                       data={"body": "Yes, it is."}).status_code == 303
    assert "Maya asked you:" not in unescape(client.get(f"/feedback/thread?item_type=artefact&item_id={note.id}").text)
    # The student sees their own wording ("You asked"), not the teacher's.
    assert "Maya asked you:" not in unescape(student.get(f"/feedback/thread?item_type=artefact&item_id={note.id}").text)

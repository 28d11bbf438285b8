"""Student-led conference mode: the presentation, the family's response at the conference and from home."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import select

from app.models import (
    Artefact, ArtefactKind, Audience, Competency, CompetencyRating, ConferenceResponse, Goal, GoalStep, MediaKind,
    Notification, NotificationKind, ProficiencyLevel, RatingSource, ResponseSource, Role, Showcase, ShowcaseItem,
    ShowcaseItemType,
)
from app.services.conferences import conference_responses
from app.services.portfolio.artefacts import delete_artefact
from tests.factories import (
    link_guardian, login, make_class, make_framework, make_note, make_reflection, make_school, make_user,
)


# --- helpers -----------------------------------------------------------------------------------


def make_showcase(session, owner, *, title="My best work", introduction="Welcome to my conference.",
                  audience=Audience.family, items=()) -> Showcase:
    """A showcase with entries in the given order: items are (ShowcaseItemType, item id, talking points)."""
    showcase = Showcase(owner_id=owner.id, title=title, introduction=introduction, audience=audience)
    session.add(showcase)
    session.flush()
    for position, (item_type, item_id, talking_points) in enumerate(items):
        session.add(ShowcaseItem.to(showcase_id=showcase.id, item_type=item_type, target_id=item_id, position=position,
                                    talking_points=talking_points))
    session.commit()
    return showcase


def make_file(session, owner, *, title, media_kind, thumbs=False, audience=Audience.family) -> Artefact:
    """A file artefact row (the bytes aren't needed: the presentation only links to /files/...)."""
    extension = {MediaKind.image: "jpg", MediaKind.audio: "webm", MediaKind.video: "mp4"}.get(media_kind, "pdf")
    artefact = Artefact(
        owner_id=owner.id, kind=ArtefactKind.file, title=title, occurred_on=date(2026, 11, 2), audience=audience,
        stored_name=f"{title}.{extension}", original_name=f"{title}.{extension}", content_type="application/octet-stream",
        media_kind=media_kind, size_bytes=1000, width=800 if thumbs else None, height=600 if thumbs else None,
        thumb_small=f"{title}-s.webp" if thumbs else None, thumb_large=f"{title}-l.webp" if thumbs else None,
    )
    session.add(artefact)
    session.commit()
    return artefact


def make_link(session, owner, *, title, url, audience=Audience.family) -> Artefact:
    artefact = Artefact(owner_id=owner.id, kind=ArtefactKind.link, title=title, url=url, occurred_on=date(2026, 11, 3),
                        audience=audience)
    session.add(artefact)
    session.commit()
    return artefact


def make_goal(session, owner, *, title, steps=(("Read a chapter", True), ("Write a summary", False))) -> Goal:
    goal = Goal(owner_id=owner.id, title=title, why="I want to read more.", audience=Audience.family)
    session.add(goal)
    session.flush()
    for position, (text, done) in enumerate(steps):
        session.add(GoalStep(goal_id=goal.id, text=text, position=position, done=done))
    session.commit()
    return goal


def setup_people(session):
    school = make_school(session)
    student = make_user(session, school, Role.student, display_name="Maya Student")
    teacher = make_user(session, school, Role.teacher)
    classmate = make_user(session, school, Role.student)
    guardian = make_user(session, school, Role.guardian, display_name="Rosa Parent")
    other_guardian = make_user(session, school, Role.guardian)
    other_student = make_user(session, school, Role.student)
    other_teacher = make_user(session, school, Role.teacher)
    make_class(session, school, teachers=[teacher], students=[student, classmate])
    make_class(session, school, teachers=[other_teacher], students=[other_student])
    link_guardian(session, guardian, student)
    link_guardian(session, other_guardian, other_student)
    return dict(school=school, student=student, teacher=teacher, classmate=classmate, guardian=guardian,
                other_guardian=other_guardian, other_student=other_student, other_teacher=other_teacher)


def responses_in_db(session, showcase) -> list[ConferenceResponse]:
    session.expire_all()
    return list(session.exec(select(ConferenceResponse).where(ConferenceResponse.showcase_id == showcase.id)).all())


ANSWERS = {"author_name": "Grandma Lou", "proud": "Your poster about bees!", "next_hope": "More science, please."}


# --- the presentation ---------------------------------------------------------------------------


def test_owner_presents_every_item_in_order_with_media_and_talking_points(client, session):
    people = setup_people(session)
    student = people["student"]
    framework = make_framework(session, people["school"])
    competency = session.exec(select(Competency).where(Competency.framework_id == framework.id,
                                                       Competency.code == "THK")).one()
    developing = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id,
                                                             ProficiencyLevel.label == "Developing")).one()
    session.add(CompetencyRating(student_id=student.id, competency_id=competency.id, level_id=developing.id,
                                 rated_by_id=student.id, source=RatingSource.self))
    session.commit()

    photo = make_file(session, student, title="Bee poster", media_kind=MediaKind.image, thumbs=True)
    scan = make_file(session, student, title="Unthumbed drawing", media_kind=MediaKind.image, thumbs=False)
    song = make_file(session, student, title="Recorder song", media_kind=MediaKind.audio)
    clip = make_file(session, student, title="Science fair clip", media_kind=MediaKind.video)
    link = make_link(session, student, title="Class blog", url="https://blog.example.org/maya")
    note = make_note(session, student, title="Poem about autumn", body="Leaves **fall** softly")
    reflection = make_reflection(session, student, title="What I learned this term", body="I learned to *persevere*")
    goal = make_goal(session, student, title="Read twenty books")
    items = [
        (ShowcaseItemType.goal, goal.id, "Say how many books so far"),
        (ShowcaseItemType.artefact, photo.id, "Point at the **queen bee**"),
        (ShowcaseItemType.artefact, song.id, ""),
        (ShowcaseItemType.reflection, reflection.id, "Read the last line aloud"),
        (ShowcaseItemType.artefact, note.id, ""),
        (ShowcaseItemType.artefact, clip.id, ""),
        (ShowcaseItemType.artefact, link.id, ""),
        (ShowcaseItemType.artefact, scan.id, ""),
        (ShowcaseItemType.competency, competency.id, "Explain my thinking"),
    ]
    showcase = make_showcase(session, student, title="Maya's term", introduction="Hello *family*", items=items)
    login(client, student)

    response = client.get(f"/showcases/{showcase.id}/present")

    assert response.status_code == 200
    html = response.text
    titles = ["Maya&#39;s term", "Read twenty books", "Bee poster", "Recorder song", "What I learned this term",
              "Poem about autumn", "Science fair clip", "Class blog", "Unthumbed drawing", "Thinking", "Your turn"]
    positions = [html.index(f'class="slide__heading" tabindex="-1">{t}</h') for t in titles]
    assert positions == sorted(positions)
    # One section per slide, each with its own id, and plain links between them for use without JavaScript.
    for n in range(1, 12):
        assert f'id="slide-{n}"' in html
    assert 'id="slide-12"' not in html
    assert 'href="#slide-2" rel="next"' in html and 'href="#slide-10" rel="prev"' in html
    assert "Slide 3 of 11" in html
    assert "<em>family</em>" in html  # the introduction, rendered from Markdown
    # Talking points sit in the presenter panels, closed until opened.
    notes = re.findall(r'<details class="presenter-notes" id="(slide-\d+)-notes" data-notes>(.*?)</details>', html, re.S)
    assert [anchor for anchor, _ in notes] == ["slide-2", "slide-3", "slide-5", "slide-10"]
    assert "<strong>queen bee</strong>" in notes[1][1]
    # Media: the large image (the original when there is none), playable audio and video fetched with the page.
    assert f'src="/files/{photo.id}/large"' in html
    assert f'src="/files/{scan.id}/original"' in html
    assert f'<audio class="slide__audio" controls preload="auto" src="/files/{song.id}/original"' in html
    assert f'<video class="slide__video" controls preload="auto" src="/files/{clip.id}/original"' in html
    assert 'loading="lazy"' not in html
    # Text, goals and competency summaries in words.
    assert "Leaves <strong>fall</strong> softly" in html and "<em>persevere</em>" in html
    assert "1 of 2 steps done" in html and 'max="2" value="1"' in html
    assert "<strong>Developing</strong>: Developing descriptor" in html
    # The response slide: the form posts back to the presentation's own response slide.
    assert f'action="/showcases/{showcase.id}/responses#slide-11"' in html
    assert "What made you proud?" in html and "What would you like to see next?" in html
    # Links are shown as text only, and nothing at all is loaded from another host.
    assert "https://blog.example.org/maya" in html
    assert not re.search(r'(?:src|href|action|poster)="(?:[a-z]+:)?//', html)
    assert 'href="https://blog' not in html
    assert '<script src="/static/js/present.js' in html and "<script>" not in html and "style=" not in html
    assert 'aria-expanded="false"' in html and 'aria-live="polite"' in html
    assert f'href="/showcases/{showcase.id}"' in html  # Exit


def test_the_presentation_hides_items_that_are_gone(client, session):
    people = setup_people(session)
    student = people["student"]
    note = make_note(session, student, title="Still here")
    doomed = make_note(session, student, title="Soon deleted")
    showcase = make_showcase(session, student, items=[(ShowcaseItemType.artefact, doomed.id, "gone"),
                                                       (ShowcaseItemType.artefact, note.id, "")])
    delete_artefact(session=session, artefact=doomed)
    session.commit()
    login(client, student)
    html = client.get(f"/showcases/{showcase.id}/present").text
    assert "Still here" in html and "gone" not in html
    assert "Slide 3 of 3" in html


def test_only_the_owner_may_present(client, session, new_client):
    people = setup_people(session)
    student = people["student"]
    for audience in (Audience.class_, Audience.family):
        showcase = make_showcase(session, student, audience=audience)
        for name in ("teacher", "classmate", "guardian", "other_guardian", "other_teacher"):
            other = new_client()
            login(other, people[name])
            assert other.get(f"/showcases/{showcase.id}/present").status_code == 404, (audience, name)
    login(client, student)
    assert client.get(f"/showcases/{showcase.id}/present").status_code == 200
    assert client.get("/showcases/999999/present").status_code == 404


def test_presenting_needs_a_sign_in(client, session):
    people = setup_people(session)
    showcase = make_showcase(session, people["student"])
    response = client.get(f"/showcases/{showcase.id}/present")
    assert response.status_code in (302, 303) and "/login" in response.headers["location"]


def test_presentation_query_count_does_not_grow_with_items(client, session, count_queries):
    people = setup_people(session)
    student = people["student"]
    skills = tuple((f"C{i}", f"Skill {i}", None) for i in range(6))
    framework = make_framework(session, people["school"], competencies=skills)
    competency_ids = list(session.exec(select(Competency.id).where(Competency.framework_id == framework.id)).all())
    login(client, student)

    def showcase_with(n: int) -> Showcase:
        items = []
        for i in range(n):
            kind = i % 5
            if kind == 0:
                items.append((ShowcaseItemType.artefact, make_note(session, student, title=f"Note {n}-{i}").id, "tp"))
            elif kind == 1:
                items.append((ShowcaseItemType.reflection, make_reflection(session, student, title=f"R {n}-{i}").id, ""))
            elif kind == 2:
                items.append((ShowcaseItemType.goal, make_goal(session, student, title=f"Goal {n}-{i}").id, "tp"))
            elif kind == 3:
                items.append((ShowcaseItemType.competency, competency_ids[i // 5], "tp"))
            else:
                photo = make_file(session, student, title=f"Photo {n}-{i}", media_kind=MediaKind.image, thumbs=True)
                caption = make_file(session, student, title=f"Caption {n}-{i}", media_kind=MediaKind.audio,
                                    audience=Audience.private)
                photo.audio_artefact_id = caption.id  # a spoken caption, played on the photo's slide
                session.add(photo)
                session.commit()
                items.append((ShowcaseItemType.artefact, photo.id, "tp"))
        return make_showcase(session, student, title=f"Showcase {n}", items=items)

    counts = []
    # Five items already cover every kind (evidence, reflection, goal, competency, a captioned photo), so each kind's
    # query is there.
    for n in (5, 20):
        showcase = showcase_with(n)
        with count_queries() as counter:
            response = client.get(f"/showcases/{showcase.id}/present")
        assert response.status_code == 200
        assert response.text.count("Spoken caption") == n // 5
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


# --- responses at the conference ----------------------------------------------------------------


def test_a_conference_response_is_saved_and_listed(client, session):
    people = setup_people(session)
    student = people["student"]
    showcase = make_showcase(session, student, items=[(ShowcaseItemType.artefact, make_note(session, student).id, "")])
    login(client, student)

    response = client.post(f"/showcases/{showcase.id}/responses", data=ANSWERS)

    assert response.status_code == 303
    assert response.headers["location"] == f"/showcases/{showcase.id}/present?responded=1#thanks"
    [saved] = responses_in_db(session, showcase)
    assert saved.source is ResponseSource.conference
    assert (saved.author_name, saved.proud, saved.next_hope) == (
        "Grandma Lou", "Your poster about bees!", "More science, please.")
    assert saved.author_id is None and saved.owner_id == student.id
    thanks = client.get(f"/showcases/{showcase.id}/present?responded=1").text
    assert 'id="thanks"' in thanks and "Thank you!" in thanks and 'data-start="thanks"' in thanks
    assert 'id="thanks"' not in client.get(f"/showcases/{showcase.id}/present").text
    listed = client.get(f"/showcases/{showcase.id}/responses")
    assert listed.status_code == 200
    assert "Grandma Lou" in listed.text and "Your poster about bees!" in listed.text and "At the conference" in listed.text
    # The student was there: no notification for a response typed on their own device.
    assert not session.exec(select(Notification).where(Notification.user_id == student.id)).all()


def test_one_answer_is_enough_and_the_name_is_optional(client, session):
    people = setup_people(session)
    showcase = make_showcase(session, people["student"])
    login(client, people["student"])
    assert client.post(f"/showcases/{showcase.id}/responses", data={"next_hope": "  Keep going  "}).status_code == 303
    [saved] = responses_in_db(session, showcase)
    assert (saved.author_name, saved.proud, saved.next_hope) == ("", "", "Keep going")
    assert "Someone from the family" in client.get(f"/showcases/{showcase.id}/responses").text


def test_conference_response_validation(client, session):
    people = setup_people(session)
    showcase = make_showcase(session, people["student"])
    login(client, people["student"])

    empty = client.post(f"/showcases/{showcase.id}/responses", data={"author_name": "Dad", "proud": "  ", "next_hope": ""})
    assert empty.status_code == 422
    assert "Answer at least one of the two questions." in empty.text
    assert 'id="proud-error"' in empty.text and 'value="Dad"' in empty.text
    assert 'data-start="slide-2"' in empty.text  # the presentation opens again on the response slide

    too_long = client.post(f"/showcases/{showcase.id}/responses", data={"proud": "ok", "next_hope": "x" * 2001})
    assert too_long.status_code == 422
    assert 'id="next_hope-error"' in too_long.text and "2000 characters" in too_long.text
    assert "ok</textarea>" in too_long.text

    long_name = client.post(f"/showcases/{showcase.id}/responses", data={"author_name": "n" * 121, "proud": "ok"})
    assert long_name.status_code == 422 and 'id="author_name-error"' in long_name.text

    assert responses_in_db(session, showcase) == []
    assert client.post(f"/showcases/{showcase.id}/responses", data={"proud": "y" * 2000}).status_code == 303


def test_only_the_owner_records_conference_responses(client, session, new_client):
    people = setup_people(session)
    showcase = make_showcase(session, people["student"])
    for name in ("teacher", "guardian", "classmate"):
        other = new_client()
        login(other, people[name])
        assert other.post(f"/showcases/{showcase.id}/responses", data=ANSWERS).status_code == 404, name
    assert responses_in_db(session, showcase) == []


# --- responses from the family's own login ------------------------------------------------------


def test_a_guardian_responds_from_their_own_login(client, session):
    people = setup_people(session)
    student, guardian = people["student"], people["guardian"]
    showcase = make_showcase(session, student, title="Bees and more")
    login(client, guardian)

    form = client.get(f"/showcases/{showcase.id}/respond")
    assert form.status_code == 200
    assert 'value="Rosa Parent"' in form.text and "What made you proud?" in form.text

    response = client.post(f"/showcases/{showcase.id}/respond",
                           data={"author_name": "", "proud": "The bee poster", "next_hope": ""})

    assert response.status_code == 303 and response.headers["location"] == f"/showcases/{showcase.id}/responses"
    [saved] = responses_in_db(session, showcase)
    assert saved.source is ResponseSource.family
    assert saved.author_id == guardian.id and saved.author_name == "Rosa Parent" and saved.owner_id == student.id
    [note] = session.exec(select(Notification).where(Notification.user_id == student.id)).all()
    assert note.kind is NotificationKind.family_response
    assert note.params == {"name": "Rosa Parent", "title": "Bees and more"}
    assert note.link == f"/showcases/{showcase.id}/responses"
    page = client.get(f"/showcases/{showcase.id}/responses")
    assert page.status_code == 200 and "The bee poster" in page.text and "From their own account" in page.text


def test_a_guardian_may_sign_with_another_name(client, session):
    people = setup_people(session)
    showcase = make_showcase(session, people["student"])
    login(client, people["guardian"])
    assert client.post(f"/showcases/{showcase.id}/respond",
                       data={"author_name": "Mum and Grandpa", "next_hope": "Music"}).status_code == 303
    [saved] = responses_in_db(session, showcase)
    assert saved.author_name == "Mum and Grandpa" and saved.author_id == people["guardian"].id
    [note] = session.exec(select(Notification).where(Notification.user_id == people["student"].id)).all()
    assert note.params["name"] == "Mum and Grandpa"


def test_family_response_validation(client, session):
    people = setup_people(session)
    showcase = make_showcase(session, people["student"])
    login(client, people["guardian"])
    response = client.post(f"/showcases/{showcase.id}/respond", data={"proud": "", "next_hope": ""})
    assert response.status_code == 422 and "Answer at least one of the two questions." in response.text
    assert client.post(f"/showcases/{showcase.id}/respond", data={"proud": "p" * 2001}).status_code == 422
    assert responses_in_db(session, showcase) == []
    assert not session.exec(select(Notification)).all()


def test_only_a_guardian_who_may_see_the_showcase_can_respond(client, session, new_client):
    people = setup_people(session)
    student = people["student"]
    family = make_showcase(session, student, audience=Audience.family)
    private = make_showcase(session, student, audience=Audience.private)
    class_only = make_showcase(session, student, audience=Audience.class_)

    other = new_client()
    login(other, people["other_guardian"])
    assert other.get(f"/showcases/{family.id}/respond").status_code == 404
    assert other.post(f"/showcases/{family.id}/respond", data=ANSWERS).status_code == 404

    login(client, people["guardian"])
    for showcase in (private, class_only):
        assert client.get(f"/showcases/{showcase.id}/respond").status_code == 404
        assert client.post(f"/showcases/{showcase.id}/respond", data=ANSWERS).status_code == 404
    for name in ("student", "teacher", "classmate"):
        someone = new_client()
        login(someone, people[name])
        assert someone.get(f"/showcases/{family.id}/respond").status_code == 404, name
        assert someone.post(f"/showcases/{family.id}/respond", data=ANSWERS).status_code == 404, name
    for showcase in (family, private, class_only):
        assert responses_in_db(session, showcase) == []


# --- who reads the responses --------------------------------------------------------------------


def test_responses_page_is_for_the_student_their_teachers_and_family(client, session, new_client):
    people = setup_people(session)
    student = people["student"]
    showcase = make_showcase(session, student, audience=Audience.family)
    class_showcase = make_showcase(session, student, audience=Audience.class_, title="For the class")
    login(client, student)
    client.post(f"/showcases/{showcase.id}/responses", data={"proud": "First answer", "next_hope": ""})
    client.post(f"/showcases/{showcase.id}/responses", data={"proud": "Second answer", "next_hope": ""})

    for name in ("student", "teacher", "guardian"):
        reader = new_client()
        login(reader, people[name])
        page = reader.get(f"/showcases/{showcase.id}/responses")
        assert page.status_code == 200, name
        assert page.text.index("Second answer") < page.text.index("First answer"), name  # newest first
    for name in ("classmate", "other_guardian", "other_student", "other_teacher"):
        stranger = new_client()
        login(stranger, people[name])
        assert stranger.get(f"/showcases/{showcase.id}/responses").status_code == 404, name
        # A classmate may see a class showcase, but not the family's words about it.
        assert stranger.get(f"/showcases/{class_showcase.id}/responses").status_code == 404, name
    guardian = new_client()
    login(guardian, people["guardian"])
    assert guardian.get(f"/showcases/{class_showcase.id}/responses").status_code == 404
    assert client.get("/showcases/999999/responses").status_code == 404


def test_response_counts_is_one_grouped_query(session, count_queries):
    people = setup_people(session)
    student = people["student"]
    first = make_showcase(session, student, title="One")
    second = make_showcase(session, student, title="Two")
    empty = make_showcase(session, student, title="None")
    for showcase, n in ((first, 2), (second, 1)):
        for i in range(n):
            conference_responses.record_response(session=session, showcase=showcase, author=None, author_name="",
                                                 proud=f"p{i}", next_hope="", source=ResponseSource.conference)
    session.commit()
    with count_queries() as counter:
        counts = conference_responses.response_counts(session=session, showcase_ids=[first.id, second.id, empty.id])
    assert counts == {first.id: 2, second.id: 1}
    assert counter.count == 1
    assert conference_responses.response_counts(session=session, showcase_ids=[]) == {}


def test_validate_response_trims_and_explains():
    data = conference_responses.validate_response(author_name="  Ana ", proud=" Great ", next_hope="")
    assert (data.author_name, data.proud, data.next_hope, data.errors) == ("Ana", "Great", "", {})
    assert set(conference_responses.validate_response(author_name="", proud="", next_hope=" ").errors) == {"proud"}
    assert set(conference_responses.validate_response(author_name="", proud="a" * 2001, next_hope="b" * 2001).errors) == {
        "proud", "next_hope"}

"""The offline website inside the portable archive: every page there, every link relative and resolving, nothing
remote, the feedback thread kept, nobody else's work, and a fixed number of queries."""

from __future__ import annotations

import posixpath
import zipfile
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from sqlmodel import Session, select

from app.models import (
    Artefact, ArtefactKind, Audience, Comment, CommentStatus, ItemType, ProficiencyLevel, Role, ShowcaseItemType,
)
from app.services.moderation import comment_writing, thread_items
from app.services.portfolio import goals as goal_service
from app.services.exports import offline_site
from app.services.showcases import showcases
from app.services.portfolio.artefacts import ArtefactInput, create_text_artefact
from app.services.competencies.assessments import create_teacher_rating
from app.services.portfolio.goal_forms import GoalData
from app.services.competencies.ratings import RatingInput, create_self_rating
from app.services.showcases.showcases import ShowcaseInput
from tests.factories import login, make_class, make_framework, make_note, make_reflection, make_school, make_user
from tests.media import png
from tests.stored import stored_bytes

pytestmark = pytest.mark.storage  # on the upload folder and on an S3 server

LINK_URL = "https://example.org/volcanoes"


# --- helpers -------------------------------------------------------------------------------------


class Links(HTMLParser):
    """Every href and src in a page, with the tag it sits on."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.found.append((tag, name, value))

    handle_startendtag = handle_starttag


def links_of(path: Path) -> list[tuple[str, str, str]]:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.found


def upload_image(client, *, title: str, description: str = "", audience: str = "class", competency_ids=(),
                 tags: str = "") -> None:
    parts = [("files", ("science poster.png", png(400, 300), "image/png")), ("title", (None, title)),
             ("description", (None, description)), ("audience", (None, audience)), ("tags", (None, tags))]
    parts += [("competency_ids", (None, str(c))) for c in competency_ids]
    response = client.post("/artefacts/upload", files=parts)
    assert response.status_code == 303, response.text


def write(session: Session, settings, student, path: Path, *, with_files: bool = True, progress=None) -> Path:
    """Write the site into a ZIP the way the archive job does (originals under files/), extract it, return the root."""
    student = session.get(type(student), student.id)
    artefacts = session.exec(select(Artefact).where(Artefact.owner_id == student.id,
                                                    Artefact.kind == ArtefactKind.file)).all()
    zip_path = path / "archive.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        file_paths = None
        if with_files:
            file_paths = {}
            for artefact in artefacts:
                name = f"files/{artefact.id}-{artefact.original_name}"
                archive.writestr(name, stored_bytes(settings, artefact.stored_name))
                file_paths[artefact.id] = name
        pages = offline_site.write_site(session=session, settings=settings, student=student, archive=archive,
                                        file_paths=file_paths, progress=progress)
    root = path / "out"
    with zipfile.ZipFile(zip_path) as archive:
        assert not [n for n in archive.namelist() if n.startswith("/") or ".." in n]
        archive.extractall(root)
    assert pages == len(list((root / "site").rglob("*.html")))
    return root


@pytest.fixture
def portfolio(client, session):
    """A student's portfolio with one of everything, a teacher, a classmate, and the classmate's own work."""
    school = make_school(session, "Riverside Middle")
    student = make_user(session, school, display_name="Maya Chen")
    classmate = make_user(session, school, display_name="Leo Park")
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    school_class = make_class(session, school, teachers=[teacher], students=[student, classmate])
    framework = make_framework(session, school, classes=[school_class])
    com = next(c for c in framework.competencies if c.code == "COM")
    levels = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id)
                          .order_by(ProficiencyLevel.position)).all()

    login(client, student)
    upload_image(client, title="Science poster", description="My **poster** about [the plan](/goals/1).",
                 competency_ids=[com.id], tags="science, plants")
    image = session.exec(select(Artefact).where(Artefact.owner_id == student.id)).one()
    note = make_note(session, student, title="Field notes", body="Saw *three* herons.", tags=["birds"])
    link = create_text_artefact(session=session, owner=student, kind=ArtefactKind.link,
                                data=ArtefactInput(title="Volcano site", url=LINK_URL, occurred_on=date(2026, 10, 1)))
    reflection = make_reflection(session, student, title="What I learned about posters", body="Layout **matters**.",
                                 artefact_ids=[image.id], competency_ids=[com.id])
    draft = make_reflection(session, student, title="Half-finished thoughts", draft=True)
    goal = goal_service.create_goal(session=session, owner=student, data=GoalData(
        title="Speak up in discussions", why="I have ideas", success_criteria="I speak twice a lesson",
        target_date=None, audience=Audience.class_, competency_ids={com.id}, steps=["Prepare a question", "Ask it"]))
    session.flush()
    steps = goal_service.steps_of(session=session, goal=goal)
    goal_service.record_checkin(session=session, goal=goal, occurred_on=date(2026, 11, 2), note="Asked one!",
                                artefact_ids={note.id}, step_ids={steps[0].id})
    create_self_rating(session=session, student=student, competency=com,
                       data=RatingInput(level_id=levels[1].id, reason="I explain clearly", artefact_ids={image.id}))
    create_teacher_rating(session=session, teacher=teacher, student=student, competency=com,
                          data=RatingInput(level_id=levels[2].id, reason="Strong poster talk"))
    session.commit()

    item = thread_items.item_visible_to(session=session, viewer=teacher, item_type=ItemType.artefact, item_id=image.id)
    comment = comment_writing.add_comment(session=session, author=teacher, item=item, data=comment_writing.CommentInput(
        body="Lovely colour choices on this poster.", next_step="Label the axes"))
    comment_writing.add_comment(session=session, author=student, item=item, data=comment_writing.CommentInput(
        body="Thank you, I will label them!", parent_id=comment.id))
    peer_item = thread_items.item_visible_to(session=session, viewer=classmate, item_type=ItemType.artefact, item_id=image.id)
    pending = comment_writing.add_comment(session=session, author=classmate, item=peer_item, data=comment_writing.CommentInput(
        noticed="PEER WAITING FOR APPROVAL"))
    assert pending.status is CommentStatus.pending

    showcase = showcases.create_showcase(session=session, owner=student, data=ShowcaseInput(
        title="My best work", introduction="Work I am **proud** of."))
    for item_type, item_id in ((ShowcaseItemType.artefact, image.id), (ShowcaseItemType.reflection, reflection.id),
                               (ShowcaseItemType.goal, goal.id), (ShowcaseItemType.competency, com.id)):
        entry = showcases.add_item(session=session, owner=student, showcase=showcase, item_type=item_type, item_id=item_id)
        if item_type is ShowcaseItemType.artefact:
            showcases.set_talking_points(session=session, showcase=showcase, entry=entry, text="Point at the legend")

    make_note(session, classmate, title="LEO SECRET NOTE", body="not Maya's")
    session.commit()
    return dict(student=student, teacher=teacher, classmate=classmate, image=image, note=note, link=link,
                reflection=reflection, draft=draft, goal=goal, showcase=showcase, com=com)


# --- the site ------------------------------------------------------------------------------------


def test_every_page_is_listed_and_every_link_is_relative_and_resolves(portfolio, session, settings, tmp_path):
    root = write(session, settings, portfolio["student"], tmp_path)
    site = root / "site"
    p = portfolio
    expected = {
        "index.html", "competencies.html", "credentials.html", f"evidence/artefact-{p['image'].id}.html",
        f"evidence/artefact-{p['note'].id}.html", f"evidence/artefact-{p['link'].id}.html",
        f"reflections/reflection-{p['reflection'].id}.html", f"reflections/reflection-{p['draft'].id}.html",
        f"goals/goal-{p['goal'].id}.html", f"showcases/showcase-{p['showcase'].id}.html",
    }
    pages = {path.relative_to(site).as_posix() for path in site.rglob("*.html")}
    assert pages == expected
    assert (site / "style.css").is_file()

    # The contents page links (relatively) to every other page.
    from_index = {posixpath.normpath(urlsplit(value).path) for tag, name, value in links_of(site / "index.html")
                  if tag == "a" and not value.startswith("#")}
    assert expected - {"index.html"} <= from_index

    checked = 0
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and "style=" not in text
        for tag, name, value in links_of(page):
            if name == "href" and tag == "a" and value.startswith(("http://", "https://", "mailto:")):
                assert value == LINK_URL, f"{page}: unexpected outside link {value}"
                continue
            assert not value.startswith(("/", "http:", "https:", "//", "file:")), f"{page}: {tag} {name}={value}"
            parts = urlsplit(value)
            assert not parts.scheme and not parts.netloc, value
            if not parts.path:  # "#main": this page
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_relative_to(root.resolve()), f"{page}: {value} leaves the archive"
            assert target.is_file(), f"{page}: {value} points at nothing"
            checked += 1
    assert checked > 30


def test_artefact_page_shows_the_image_the_original_and_the_feedback_thread(portfolio, session, settings, tmp_path):
    root = write(session, settings, portfolio["student"], tmp_path)
    image = portfolio["image"]
    page = root / "site" / "evidence" / f"artefact-{image.id}.html"
    html = page.read_text(encoding="utf-8")
    assert (root / "site" / "images" / f"{image.id}.webp").is_file()
    links = links_of(page)
    assert ("img", "src", f"../images/{image.id}.webp") in links
    assert ("a", "href", f"../../files/{image.id}-science%20poster.png") in links
    assert ("link", "href", "../style.css") in links
    assert '<html lang="en">' in html
    assert "Lovely colour choices on this poster." in html and "Ms Rivera" in html and "Teacher" in html
    assert "Label the axes" in html
    # The reply sits inside the teacher's comment's list item, in the replies list.
    thread = html[html.index("Lovely colour choices"):]
    assert "feedback__replies" in thread and "Thank you, I will label them!" in thread
    assert thread.index("feedback__replies") < thread.index("Thank you, I will label them!")
    assert "PEER WAITING FOR APPROVAL" not in html  # pending: not part of the thread anyone sees yet
    assert "<strong>poster</strong>" in html and "/goals/1" not in html  # Markdown kept, app links dropped
    assert "#science" in html and "Communication" in html
    assert "alt=" in html


def test_other_pages_show_their_parts(portfolio, session, settings, tmp_path):
    root = write(session, settings, portfolio["student"], tmp_path)
    site, p = root / "site", portfolio
    competencies = (site / "competencies.html").read_text(encoding="utf-8")
    assert "<svg" in competencies and "<table" in competencies
    svg = competencies[competencies.index("<svg"):competencies.index("</svg>")]
    assert "href" not in svg and "url(" not in svg
    assert "Proficient" in competencies and "Strong poster talk" in competencies and "I explain clearly" in competencies
    assert "Proficient descriptor" in competencies  # the latest level's descriptor

    reflection = (site / "reflections" / f"reflection-{p['reflection'].id}.html").read_text(encoding="utf-8")
    assert "<strong>matters</strong>" in reflection
    assert ("a", "href", f"../evidence/artefact-{p['image'].id}.html") in links_of(
        site / "reflections" / f"reflection-{p['reflection'].id}.html")
    draft = (site / "reflections" / f"reflection-{p['draft'].id}.html").read_text(encoding="utf-8")
    assert "Draft" in draft
    assert "Draft" in (site / "index.html").read_text(encoding="utf-8")

    goal_page = site / "goals" / f"goal-{p['goal'].id}.html"
    goal = goal_page.read_text(encoding="utf-8")
    assert "Prepare a question" in goal and "Asked one!" in goal and "1 of 2 steps done" in goal
    assert ("a", "href", f"../evidence/artefact-{p['note'].id}.html") in links_of(goal_page)

    showcase_page = site / "showcases" / f"showcase-{p['showcase'].id}.html"
    showcase = showcase_page.read_text(encoding="utf-8")
    hrefs = [value for tag, _n, value in links_of(showcase_page) if tag == "a" and value.startswith("..") and value != "../index.html"]
    assert hrefs == [f"../evidence/artefact-{p['image'].id}.html", f"../reflections/reflection-{p['reflection'].id}.html",
                     f"../goals/goal-{p['goal'].id}.html", f"../competencies.html#competency-{p['com'].id}"]
    assert "Point at the legend" in showcase and "<strong>proud</strong>" in showcase

    index = (site / "index.html").read_text(encoding="utf-8")
    assert "Maya Chen" in index and "Riverside Middle" in index and "About this archive" in index
    link = (site / "evidence" / f"artefact-{p['link'].id}.html").read_text(encoding="utf-8")
    assert f'href="{LINK_URL}"' in link


def test_another_students_work_never_appears(portfolio, session, settings, tmp_path):
    root = write(session, settings, portfolio["student"], tmp_path)
    everything = "".join(page.read_text(encoding="utf-8") for page in (root / "site").rglob("*.html"))
    assert "LEO SECRET NOTE" not in everything and "not Maya" not in everything
    assert "Leo Park" not in everything  # only his pending comment mentioned him, and it isn't shown
    leo_note = session.exec(select(Artefact).where(Artefact.title == "LEO SECRET NOTE")).one()
    assert not (root / "site" / "evidence" / f"artefact-{leo_note.id}.html").exists()


def test_without_file_paths_the_site_copies_the_originals_itself(portfolio, session, settings, tmp_path):
    calls = []
    root = write(session, settings, portfolio["student"], tmp_path, with_files=False,
                 progress=lambda done, total, stage: calls.append((done, total, stage)))
    image = portfolio["image"]
    original = root / "site" / "files" / f"{image.id}-science-poster.png"
    assert original.is_file() and original.read_bytes() == stored_bytes(settings, image.stored_name)
    page = root / "site" / "evidence" / f"artefact-{image.id}.html"
    assert ("a", "href", f"../files/{image.id}-science-poster.png") in links_of(page)
    assert not (root / "files").exists()
    assert calls and calls[-1][0] == calls[-1][1] == 10 and calls[-1][2]


def test_query_count_does_not_grow_with_the_portfolio(portfolio, app, session, settings, tmp_path, count_queries):
    student = portfolio["student"]
    teacher, com = portfolio["teacher"], portfolio["com"]

    def count(run: int) -> int:
        with Session(app.state.engine, expire_on_commit=False) as fresh:
            path = tmp_path / f"run{run}"
            path.mkdir()
            owner = fresh.get(type(student), student.id)
            with zipfile.ZipFile(path / "a.zip", "w") as archive, count_queries() as counter:
                offline_site.write_site(session=fresh, settings=settings, student=owner, archive=archive)
            return counter.count

    few = count(1)
    levels = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == com.framework_id)).all()
    showcase = portfolio["showcase"]
    for n in range(6):
        note = make_note(session, student, title=f"More {n}", competency_ids=[com.id], tags=[f"t{n}"])
        reflection = make_reflection(session, student, title=f"Thinking {n}", artefact_ids=[note.id], draft=n % 2 == 0)
        goal = goal_service.create_goal(session=session, owner=student, data=GoalData(
            title=f"Goal {n}", why="", success_criteria="", target_date=None, audience=Audience.private,
            competency_ids={com.id}, steps=["a", "b"]))
        session.flush()
        goal_service.record_checkin(session=session, goal=goal, occurred_on=date.today(), note="ok",
                                    artefact_ids={note.id}, step_ids=set())
        create_self_rating(session=session, student=student, competency=com,
                           data=RatingInput(level_id=levels[n % len(levels)].id, reason=f"r{n}", artefact_ids={note.id}))
        for item_type, item_id in ((ShowcaseItemType.artefact, note.id), (ShowcaseItemType.goal, goal.id)):
            showcases.add_item(session=session, owner=student, showcase=showcase, item_type=item_type, item_id=item_id)
        session.commit()
        item = thread_items.item_visible_to(session=session, viewer=teacher, item_type=ItemType.artefact, item_id=note.id)
        comment_writing.add_comment(session=session, author=teacher, item=item, data=comment_writing.CommentInput(body=f"Nice {n}"))
        if n % 2:
            item = thread_items.item_visible_to(session=session, viewer=teacher, item_type=ItemType.reflection,
                                            item_id=reflection.id)
            comment_writing.add_comment(session=session, author=teacher, item=item, data=comment_writing.CommentInput(body="Good"))
        session.commit()
    many = count(2)
    assert len(session.exec(select(Comment).where(Comment.owner_id == student.id)).all()) > 8
    assert few == many and few > 10, (few, many)


def test_a_spoken_caption_plays_on_its_photos_page_and_is_not_listed(client, session, settings, tmp_path):
    from tests.factories import post_multipart
    from tests.test_filetypes import wav_bytes

    student = make_user(session, make_school(session))
    login(client, student)
    saved = post_multipart(client, "/artefacts/upload", {"title": "Bridge", "audience": "class"}, {
        "files": ("bridge.png", png(), "image/png"), "caption_audio": ("caption.wav", wav_bytes(), "audio/wav")})
    assert saved.status_code == 303
    photo = session.exec(select(Artefact).where(Artefact.title == "Bridge")).one()
    caption = session.get(Artefact, photo.audio_artefact_id)
    root = write(session, settings, student, tmp_path)

    page = root / "site" / "evidence" / f"artefact-{photo.id}.html"
    assert ("audio", "src", f"../../files/{caption.id}-caption.wav") in links_of(page)
    assert "Spoken caption" in page.read_text(encoding="utf-8")
    assert (root / "files" / f"{caption.id}-caption.wav").is_file()
    index = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert "Bridge" in index and caption.title not in index and f"artefact-{caption.id}.html" not in index

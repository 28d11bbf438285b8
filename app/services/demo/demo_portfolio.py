"""A living portfolio for the demo: Maya's evidence, reflections, goals and self-ratings over a term."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from sqlmodel import Session, select

from app.models import (
    Artefact,
    ArtefactKind,
    Audience,
    ClassFramework,
    Competency,
    Framework,
    ProficiencyLevel,
    ReflectionStatus,
    School,
    SchoolClass,
    User,
)
from app.storage import Storage
from app.services.portfolio import artefacts
from app.services.competencies import assessments
from app.services.moderation import comment_writing, thread_items
from app.services.moderation import feedback_requests
from app.services.portfolio import goal_forms
from app.services.portfolio import goals
from app.services.competencies import ratings
from app.services.portfolio import reflections
from app.services.portfolio import stored_files
from app.services.competencies.bc_competencies import seed_bc_framework
from app.services.demo.demo_images import write_picture
from app.services.portfolio import goal_steps

TODAY = date.today()


def _ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def _when(days: int) -> datetime:
    return datetime.combine(_ago(days), time(13, 30), tzinfo=timezone.utc)


def seed_portfolios(*, session: Session, school: School, store: Storage) -> None:
    """BC competencies for the school and its classes, then realistic work for the demo students."""
    framework = seed_bc_framework(session=session, school=school)
    for school_class in session.exec(select(SchoolClass).where(SchoolClass.school_id == school.id)).all():
        session.add(ClassFramework(class_id=school_class.id, framework_id=framework.id))
        if school_class.name == "Grade 7 Cedar":
            school_class.reflection_prompts = "What did I try?\nWhat worked, and why?\nWhat would I change next time?"
            session.add(school_class)
    session.flush()
    codes = {c.code: c for c in session.exec(select(Competency).where(Competency.framework_id == framework.id)).all()}
    users = {u.username: u for u in session.exec(select(User).where(User.school_id == school.id)).all()}
    maya_items = _maya(session, users["student"], codes, framework, store)
    _classmates(session, users, codes)
    _class_feedback(session, users, codes, framework, maya_items)


def _file(session: Session, owner: User, store: Storage, picture: str, *, title: str, description: str, days: int,
          audience: Audience, tags: list[str], competencies: list[Competency]):
    with tempfile.TemporaryDirectory() as folder:
        path = write_picture(picture, Path(folder))
        stored = stored_files.store_path(path=path, store=store, owner_id=owner.id, original_name=picture)
    data = artefacts.ArtefactInput(title=title, description=description, occurred_on=_ago(days), audience=audience,
                                   tags=tags, competency_ids={c.id for c in competencies})
    return artefacts.create_file_artefacts(session=session, owner=owner, files=[stored], data=data)[0]


def _text(session: Session, owner: User, kind: ArtefactKind, *, title: str, days: int, audience: Audience,
          body: str = "", url: str = "", description: str = "", tags=(), competencies=()):
    data = artefacts.ArtefactInput(title=title, body=body, url=url, description=description, occurred_on=_ago(days),
                                   audience=audience, tags=list(tags), competency_ids={c.id for c in competencies})
    return artefacts.create_text_artefact(session=session, owner=owner, kind=kind, data=data)


def _reflect(session: Session, owner: User, *, title: str, body: str, days: int, audience: Audience,
             artefact_ids=(), goal_ids=(), competencies=(), draft: bool = False):
    data = reflections.ReflectionInput(
        title=title, body=body, audience=audience,
        status=ReflectionStatus.draft if draft else ReflectionStatus.published,
        artefact_ids=set(artefact_ids), goal_ids=set(goal_ids), competency_ids={c.id for c in competencies})
    reflection = reflections.create_reflection(session=session, owner=owner, data=data)
    reflection.created_at = reflection.updated_at = _when(days)
    if not draft:
        reflection.published_at = _when(days)
    session.add(reflection)
    session.flush()
    from app.services.portfolio.timeline import sync_reflection

    sync_reflection(session=session, reflection=reflection)
    return reflection


def _goal(session: Session, owner: User, *, title: str, why: str, criteria: str, days: int, target_in: int | None,
          audience: Audience, competencies, steps: list[str], done: int = 0):
    data = goal_forms.GoalData(title=title, why=why, success_criteria=criteria,
                          target_date=TODAY + timedelta(days=target_in) if target_in else None, audience=audience,
                          competency_ids={c.id for c in competencies}, steps=steps)
    goal = goals.create_goal(session=session, owner=owner, data=data)
    goal.created_at = _when(days)
    session.add(goal)
    session.flush()
    for step in goals.steps_of(session=session, goal=goal)[:done]:
        goal_steps.toggle_step(session=session, goal=goal, step_id=step.id, done=True)
    return goal


def _rate(session: Session, owner: User, competency: Competency, levels: dict[str, ProficiencyLevel], label: str,
          *, days: int, reason: str, artefact_ids=()):
    data = ratings.RatingInput(level_id=levels[label].id, reason=reason, artefact_ids=set(artefact_ids))
    rating = ratings.create_self_rating(session=session, student=owner, competency=competency, data=data)
    rating.created_at = _when(days)
    session.add(rating)


def _maya(session: Session, maya: User, c: dict[str, Competency], framework: Framework, store: Storage) -> None:
    levels = {lvl.label: lvl for lvl in session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id)).all()}
    bridge = _file(session, maya, store, "bridge-model.jpg", title="Our craft-stick truss bridge",
                   description="Built with Noah and Amara. It held **2.4 kg** before the middle joint bent.",
                   days=41, audience=Audience.class_, tags=["science", "bridges"], competencies=[c["THK.1"], c["COM.2"]])
    volcano = _file(session, maya, store, "volcano-poster.jpg", title="Volcano cross-section poster",
                    description="For our Earth science unit. I labelled the magma chamber, vent and crater.",
                    days=29, audience=Audience.family, tags=["science", "volcanoes"], competencies=[c["COM.1"]])
    fractions = _file(session, maya, store, "fraction-strips.png", title="Fraction strips",
                      description="Halves, thirds, quarters and sixths, coloured so I can compare them.",
                      days=22, audience=Audience.private, tags=["maths", "fractions"], competencies=[c["THK.2"]])
    garden = _file(session, maya, store, "class-garden.jpg", title="Class garden, week 2",
                   description="Our bean seedlings came up! The ones by the window are taller.",
                   days=9, audience=Audience.class_, tags=["garden", "science"], competencies=[c["PS.3"]])
    book_talk = _text(session, maya, ArtefactKind.note, title="Book talk plan: Hatchet", days=15, audience=Audience.class_,
                      body="## My plan\n\n- Hook: *What would you do with only a hatchet?*\n- Three big moments\n"
                           "- Why Brian changes\n- A question for the class\n\nPractise with a timer: **3 minutes**.",
                      tags=["reading"], competencies=[c["COM.1"]])
    _text(session, maya, ArtefactKind.link, title="Our garden blog post", days=6, audience=Audience.family,
          url="https://riverside.example/blog/class-garden", description="I wrote the part about watering.",
          tags=["garden", "writing"], competencies=[c["COM.1"], c["PS.3"]])

    speak_up = _goal(session, maya, title="Speak up more in group discussions",
                     why="I have good ideas but I wait too long and then the group moves on.",
                     criteria="I'll know I've got there when I share at least one idea in every group task for two weeks.",
                     days=30, target_in=18, audience=Audience.family, competencies=[c["COM.2"]],
                     steps=["Write one idea down before the discussion starts", "Share my idea in the first five minutes",
                            "Ask someone quiet what they think"], done=1)
    tables = _goal(session, maya, title="Know my 6, 7 and 8 times tables",
                   why="Fractions and area get easier when I don't have to count up.",
                   criteria="I'll know I've got there when I can answer 20 mixed facts in two minutes.",
                   days=24, target_in=21, audience=Audience.private, competencies=[c["THK.2"]],
                   steps=["6 times table", "7 times table", "8 times table", "Mixed quiz under two minutes"], done=2)
    bridge_goal = _goal(session, maya, title="Finish the bridge challenge", why="Our group wanted to beat 2 kg.",
                        criteria="Our bridge holds more than 2 kg.", days=48, target_in=None, audience=Audience.class_,
                        competencies=[c["THK.1"]], steps=["Sketch three designs", "Build and test", "Improve the weak joint"], done=3)
    session.flush()
    goals.record_checkin(session=session, goal=speak_up, occurred_on=_ago(9),
                         note="In the garden planning I said we should plant beans by the window first. People agreed!",
                         artefact_ids={garden.id}, step_ids=set())
    goals.record_checkin(session=session, goal=tables, occurred_on=_ago(5),
                         note="6s and 7s are done. 8s are tricky after 8 x 6.", artefact_ids=set(), step_ids=set())
    goals.achieve_goal(session=session, goal=bridge_goal,
                       closing_text="We changed the middle joint to a triangle and it held 2.4 kg. Triangles spread the weight.")

    bridge_reflection = _reflect(session, maya, title="Testing our bridge", days=40, audience=Audience.class_,
             body="**What did I do?**\n\nWe built a truss bridge and tested it with weights.\n\n"
                  "**What did I learn?**\n\nTriangles make a bridge much stronger than squares.\n\n"
                  "**What was hard?**\n\nGluing the joints straight.\n\n**What will I do next?**\n\nTry a longer span.",
             artefact_ids=[bridge.id], goal_ids=[bridge_goal.id], competencies=[c["THK.1"], c["COM.2"]])
    _reflect(session, maya, title="Presenting the volcano poster", days=27, audience=Audience.family,
             body="I was nervous, but I looked at the class instead of the poster. Next time I want to slow down.",
             artefact_ids=[volcano.id], competencies=[c["COM.1"]])
    _reflect(session, maya, title="Fractions finally clicked", days=20, audience=Audience.private,
             body="When I coloured the strips I could *see* that 2/6 is the same as 1/3. Photosynthesis next week!",
             artefact_ids=[fractions.id], goal_ids=[tables.id], competencies=[c["THK.2"]])
    _reflect(session, maya, title="Garden week 2", days=2, audience=Audience.class_, draft=True,
             body="The beans by the window grew faster. I think it's the light but I want to test it.",
             artefact_ids=[garden.id], competencies=[c["PS.3"]])

    _rate(session, maya, c["COM.1"], levels, "Emerging", days=56, reason="I get nervous and read from my notes.")
    _rate(session, maya, c["COM.1"], levels, "Developing", days=27, reason="I presented my volcano poster and looked at the class.",
          artefact_ids=[volcano.id])
    _rate(session, maya, c["COM.1"], levels, "Proficient", days=8, reason="My book talk plan kept me on time and clear.",
          artefact_ids=[book_talk.id])
    _rate(session, maya, c["THK.1"], levels, "Developing", days=45, reason="I had ideas but copied the first design.")
    _rate(session, maya, c["THK.1"], levels, "Proficient", days=38, reason="I suggested the triangle joint that fixed our bridge.",
          artefact_ids=[bridge.id])
    _rate(session, maya, c["THK.2"], levels, "Emerging", days=30, reason="I guessed which fraction was bigger.")
    _rate(session, maya, c["THK.2"], levels, "Developing", days=20, reason="I can compare fractions with strips now.",
          artefact_ids=[fractions.id])
    _rate(session, maya, c["PS.3"], levels, "Developing", days=8, reason="I help water the garden without being asked.",
          artefact_ids=[garden.id])
    session.flush()
    return {"bridge": bridge, "volcano": volcano, "bridge_reflection": bridge_reflection}


def _classmates(session: Session, users: dict[str, User], c: dict[str, Competency]) -> None:
    noah, amara = users["noah"], users["amara"]
    _text(session, noah, ArtefactKind.note, title="Bridge test results", days=40, audience=Audience.class_,
          body="| Try | Weight held |\n|---|---|\n| 1 | 0.8 kg |\n| 2 | 1.5 kg |\n| 3 | 2.4 kg |",
          tags=["bridges"], competencies=[c["THK.1"]])
    _reflect(session, amara, title="Working in a team", days=12, audience=Audience.class_,
             body="I learned to listen first and then add to someone's idea.", competencies=[c["COM.2"]])


def _class_feedback(session: Session, users: dict[str, User], c: dict[str, Competency], framework: Framework,
                    maya_items: dict) -> None:
    """The teacher's side: requests waiting, a peer comment held for approval, comments with next steps, and
    ratings across the class so the competency grid has something to show."""
    from app.models import CommentKind, ItemType

    teacher, maya, amara, noah = users["teacher"], users["student"], users["amara"], users["noah"]
    levels = {lvl.label: lvl for lvl in session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id)).all()}

    def item(kind: ItemType, item_id: int) -> thread_items.ThreadItem:
        return thread_items.item_visible_to(session=session, viewer=teacher, item_type=kind, item_id=item_id)

    feedback_requests.request_feedback(session=session, student=maya, item=item(ItemType.artefact, maya_items["volcano"].id),
                              recipient_ids={teacher.id}, question="Are my labels clear enough to read from the back?")
    noah_note = session.exec(select(Artefact).where(Artefact.owner_id == noah.id)).first()
    if noah_note is not None:
        feedback_requests.request_feedback(session=session, student=noah, item=item(ItemType.artefact, noah_note.id),
                                  recipient_ids={teacher.id}, question="Did I record the results the right way?")
    teacher_comment = comment_writing.parse_comment(
        kind=CommentKind.teacher, body="Your test table shows real scientific thinking. I like how you changed one thing at a time.",
        next_step="Try the same bridge with a longer span and predict the result first")
    comment_writing.add_comment(session=session, author=teacher, item=item(ItemType.reflection, maya_items["bridge_reflection"].id),
                         data=teacher_comment)
    peer = comment_writing.parse_comment(kind=CommentKind.peer, noticed="Your bridge has lots of triangles.",
                                  wonder="What happens if you use thicker sticks?", next_time="Label the joints.")
    amara_view = thread_items.item_visible_to(session=session, viewer=amara, item_type=ItemType.artefact,
                                          item_id=maya_items["bridge"].id)
    comment_writing.add_comment(session=session, author=amara, item=amara_view, data=peer)

    def teacher_rates(student: User, code: str, label: str, reason: str) -> None:
        data = ratings.RatingInput(level_id=levels[label].id, reason=reason)
        assessments.create_teacher_rating(session=session, teacher=teacher, student=student, competency=c[code], data=data)

    teacher_rates(maya, "COM.1", "Proficient", "Clear, well-paced book talk; next, invite questions from the class.")
    teacher_rates(maya, "THK.1", "Extending", "Found the triangle fix and explained it to the group.")
    pattern = ["Emerging", "Developing", "Proficient", "Developing", "Proficient", "Extending", "Developing"]
    for n, username in enumerate(["noah", "amara", "liam", "sofia", "ethan", "zara", "oliver"]):
        student = users[username]
        for k, code in enumerate(("COM.1", "COM.2", "THK.1", "PS.3")):
            label = pattern[(n + k) % len(pattern)]
            if (n + k) % 3 != 2:
                _rate(session, student, c[code], levels, label, days=10 + n, reason="How I see myself this month.")
            if (n + k) % 2 == 0:
                teacher_rates(student, code, pattern[(n + k + 1) % len(pattern)], "From what I saw in class this month.")

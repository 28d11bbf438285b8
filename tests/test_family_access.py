"""What a guardian sees: their children's family items (approved where the class asks), nothing of anyone else's,
and nothing at all from the moment the link ends; family comments and the approval setting; query counts."""

from html import unescape

from sqlmodel import select

from app.models import (
    ApprovalStatus, Artefact, Audience, Comment, CommentKind, CommentStatus, CompetencyRating, GoalStep, GuardianLink,
    ItemApproval, ItemType, Notification, NotificationKind, ProficiencyLevel, RatingSource, Role, Showcase,
)
from app.services.portfolio.goal_forms import GoalData
from app.services.portfolio.goals import create_goal
from tests.factories import (
    link_guardian, login, make_class, make_framework, make_note, make_reflection, make_school, make_user,
)
from tests.media import png


def _families(session, *, approval: bool = False):
    """Ms Rivera's class with Maya and Sam; Maya's mother and Sam's father, each linked to their own child."""
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    maya = make_user(session, school, display_name="Maya")
    sam = make_user(session, school, display_name="Sam")
    school_class = make_class(session, school, teachers=[teacher], students=[maya, sam])
    school_class.family_items_need_approval = approval
    session.add(school_class)
    session.commit()
    mother = make_user(session, school, Role.guardian, display_name="Maya's mother")
    father = make_user(session, school, Role.guardian, display_name="Sam's father")
    link_guardian(session, mother, maya)
    link_guardian(session, father, sam)
    return school, teacher, maya, sam, mother, father


def _goal(session, owner, *, title="Read more", audience=Audience.family, steps=()):
    data = GoalData(title=title, why="", success_criteria="", target_date=None, audience=audience,
                    competency_ids=set(), steps=list(steps))
    goal = create_goal(session=session, owner=owner, data=data)
    session.commit()
    return goal


def _upload(client, title: str, audience: str = "family") -> None:
    response = client.post("/artefacts/upload", files=[("files", ("picture.png", png(), "image/png")),
                                                       ("title", (None, title)), ("audience", (None, audience))])
    assert response.status_code == 303, response.text


def _image(session, client, owner, title: str, audience: str = "family") -> Artefact:
    _upload(client, title, audience)
    artefact = session.exec(select(Artefact).where(Artefact.owner_id == owner.id, Artefact.title == title)).one()
    assert artefact.thumb_small, "images get a small thumbnail"
    return artefact


def _approve(session, item_type: ItemType, item_id: int) -> None:
    approval = session.exec(select(ItemApproval).where(ItemApproval.item_id == item_id)).one()
    approval.status = ApprovalStatus.approved
    session.add(approval)
    session.commit()


def _item_urls(artefact_id: int, reflection_id: int, goal_id: int) -> list[str]:
    return [f"/artefacts/{artefact_id}", f"/reflections/{reflection_id}", f"/goals/{goal_id}",
            f"/files/{artefact_id}/original", f"/files/{artefact_id}/small"]


# --- another family's child ----------------------------------------------------------------------


def test_a_guardian_sees_nothing_of_another_familys_child(client, new_client, session):
    _school, _teacher, maya, sam, mother, father = _families(session)
    student = new_client()
    login(student, sam)
    picture = _image(session, student, sam, "Sam's drawing")
    reflection = make_reflection(session, sam, title="Sam's week", audience=Audience.family)
    goal = _goal(session, sam, title="Sam's goal")

    login(client, father)  # Sam's own father sees them all
    assert client.get(f"/family/children/{sam.id}").status_code == 200
    for url in _item_urls(picture.id, reflection.id, goal.id):
        assert client.get(url).status_code == 200, url

    other = new_client()
    login(other, mother)
    assert other.get(f"/family/children/{sam.id}").status_code == 404
    for url in _item_urls(picture.id, reflection.id, goal.id):
        assert other.get(url).status_code == 404, url
    home = other.get("/family").text
    assert f"/family/children/{sam.id}" not in home and f"/family/children/{maya.id}" in home
    # Not a student at all, or no such child: 404 as well.
    assert other.get(f"/family/children/{father.id}").status_code == 404
    assert other.get("/family/children/999999").status_code == 404
    # Students and teachers don't have family pages.
    assert student.get(f"/family/children/{sam.id}").status_code == 403


def test_private_and_class_items_of_their_own_child_stay_hidden(client, new_client, session):
    _school, _teacher, maya, _sam, mother, _father = _families(session)
    student = new_client()
    login(student, maya)
    private_picture = _image(session, student, maya, "Private picture", "private")
    class_picture = _image(session, student, maya, "Class picture", "class")
    family_picture = _image(session, student, maya, "Family picture", "family")
    draft = make_reflection(session, maya, title="Draft thoughts", audience=Audience.family, draft=True)
    class_goal = _goal(session, maya, title="Class goal", audience=Audience.class_)

    login(client, mother)
    page = client.get(f"/family/children/{maya.id}").text
    assert "Family picture" in page and f"/files/{family_picture.id}/small" in page
    for hidden in ("Private picture", "Class picture", "Draft thoughts", "Class goal"):
        assert hidden not in page
    for artefact in (private_picture, class_picture):
        for url in (f"/artefacts/{artefact.id}", f"/files/{artefact.id}/original", f"/files/{artefact.id}/small"):
            assert client.get(url).status_code == 404, url
    assert client.get(f"/reflections/{draft.id}").status_code == 404
    assert client.get(f"/goals/{class_goal.id}").status_code == 404
    assert "Family picture" in client.get("/family").text


def test_where_the_class_asks_for_approval_only_approved_family_items_show(client, new_client, session):
    _school, _teacher, maya, _sam, mother, _father = _families(session, approval=True)
    student = new_client()
    login(student, maya)
    waiting = _image(session, student, maya, "Waiting picture")
    approved = _image(session, student, maya, "Approved picture")
    reflection = make_reflection(session, maya, title="Waiting reflection", audience=Audience.family)
    waiting_goal = _goal(session, maya, title="Waiting goal")
    approved_goal = _goal(session, maya, title="Approved goal")
    _approve(session, ItemType.artefact, approved.id)
    _approve(session, ItemType.goal, approved_goal.id)

    login(client, mother)
    page = client.get(f"/family/children/{maya.id}").text
    assert "Approved picture" in page and "Approved goal" in page
    for hidden in ("Waiting picture", "Waiting reflection", "Waiting goal"):
        assert hidden not in page
    home = client.get("/family").text
    assert "Approved picture" in home and "Waiting picture" not in home
    for url in _item_urls(waiting.id, reflection.id, waiting_goal.id):
        assert client.get(url).status_code == 404, url
    for url in _item_urls(approved.id, reflection.id, approved_goal.id)[:1] + [f"/goals/{approved_goal.id}",
                                                                             f"/files/{approved.id}/small"]:
        assert client.get(url).status_code == 200, url


# --- the child's page: goals, growth, showcases ---------------------------------------------------


def test_the_childs_page_shows_goal_progress_growth_in_words_and_showcases(client, session):
    school, teacher, maya, sam, mother, _father = _families(session)
    goal = _goal(session, maya, title="Learn my times tables", steps=["Twos", "Threes", "Fours"])
    steps = session.exec(select(GoalStep).where(GoalStep.goal_id == goal.id).order_by(GoalStep.position)).all()
    steps[0].done = True
    session.add(steps[0])
    _goal(session, maya, title="Secret goal", audience=Audience.private)
    framework = make_framework(session, school)
    levels = {lvl.label: lvl for lvl in session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id))}
    competency = framework.competencies[0]
    session.add(CompetencyRating(student_id=maya.id, competency_id=competency.id, level_id=levels["Emerging"].id,
                                 rated_by_id=maya.id, source=RatingSource.self))
    session.add(CompetencyRating(student_id=maya.id, competency_id=competency.id, level_id=levels["Developing"].id,
                                 rated_by_id=maya.id, source=RatingSource.self))
    session.add(CompetencyRating(student_id=maya.id, competency_id=competency.id, level_id=levels["Proficient"].id,
                                 rated_by_id=teacher.id, source=RatingSource.teacher))
    session.add(Showcase(owner_id=maya.id, title="My best work", audience=Audience.family))
    session.add(Showcase(owner_id=maya.id, title="Just for class", audience=Audience.class_))
    session.commit()

    login(client, mother)
    page = unescape(client.get(f"/family/children/{maya.id}").text)
    assert "Learn my times tables" in page and "1 of 3 steps done" in page and "Secret goal" not in page
    assert competency.name in page
    assert "Your child says: Developing." in page and "Developing descriptor" in page
    assert "Their teacher says: Proficient." in page and "Proficient descriptor" in page
    assert "Emerging descriptor" not in page  # only the latest
    showcase = session.exec(select(Showcase).where(Showcase.title == "My best work")).one()
    assert f'href="/showcases/{showcase.id}"' in page and "Just for class" not in page


def test_the_page_of_a_child_who_shared_nothing_says_so_kindly(client, session):
    _school, _teacher, maya, _sam, mother, _father = _families(session)
    make_note(session, maya, title="Just mine", audience=Audience.private)
    login(client, mother)
    page = client.get(f"/family/children/{maya.id}")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "Maya hasn't shared anything with you yet." in text and "Just mine" not in text
    fragment = client.get(f"/family/children/{maya.id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "Maya hasn't shared anything with you yet." in unescape(fragment.text)


# --- links ending --------------------------------------------------------------------------------


def _maya_with_items(session, student_client, maya):
    login(student_client, maya)
    picture = _image(session, student_client, maya, "Volcano")
    reflection = make_reflection(session, maya, title="My week", audience=Audience.family)
    goal = _goal(session, maya)
    return picture, reflection, goal


def test_a_student_removes_a_guardian_and_access_ends_at_once(client, new_client, session):
    _school, _teacher, maya, sam, mother, father = _families(session)
    student = new_client()
    picture, reflection, goal = _maya_with_items(session, student, maya)
    login(client, mother)
    urls = [f"/family/children/{maya.id}"] + _item_urls(picture.id, reflection.id, goal.id)
    for url in urls:
        assert client.get(url).status_code == 200, url

    page = student.get("/my-family").text
    assert "Maya&#39;s mother" in page and "Sam&#39;s father" not in page
    assert student.get(f"/my-family/{mother.id}/remove").status_code == 200
    # Someone else's guardian (or nobody) can't be removed here.
    assert student.get(f"/my-family/{father.id}/remove").status_code == 404
    assert student.post(f"/my-family/{father.id}/remove").status_code == 404
    assert student.post(f"/my-family/{mother.id}/remove").status_code == 303
    session.expire_all()
    assert session.exec(select(GuardianLink).where(GuardianLink.student_id == maya.id)).first() is None
    assert session.exec(select(GuardianLink).where(GuardianLink.student_id == sam.id)).first() is not None

    # The same signed-in browser, the very next request.
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert f"/family/children/{maya.id}" not in client.get("/family").text
    # A teacher can't use the student's page.
    assert client.get("/my-family").status_code == 403


def test_an_admin_removes_a_link_and_access_ends_at_once(client, new_client, session):
    school, teacher, maya, _sam, mother, _father = _families(session)
    admin = make_user(session, school, Role.admin)
    other_admin = make_user(session, make_school(session), Role.admin)
    student = new_client()
    picture, reflection, goal = _maya_with_items(session, student, maya)
    login(client, mother)
    assert client.get(f"/family/children/{maya.id}").status_code == 200

    # A teacher sees the link but can't remove it; an admin of another school gets 404.
    staff = new_client()
    login(staff, teacher)
    assert "Maya&#39;s mother" in staff.get(f"/students/{maya.id}/family").text
    assert staff.post(f"/students/{maya.id}/guardians/{mother.id}/remove").status_code == 404
    outsider = new_client()
    login(outsider, other_admin)
    assert outsider.post(f"/students/{maya.id}/guardians/{mother.id}/remove").status_code == 404
    assert client.get(f"/family/children/{maya.id}").status_code == 200

    office = new_client()
    login(office, admin)
    assert office.post(f"/students/{maya.id}/guardians/{mother.id}/remove").status_code == 303
    for url in [f"/family/children/{maya.id}"] + _item_urls(picture.id, reflection.id, goal.id):
        assert client.get(url).status_code == 404, url


# --- family comments -----------------------------------------------------------------------------


def _comment(client, item_type: str, item_id: int, body: str):
    return client.post(f"/feedback/comments?item_type={item_type}&item_id={item_id}", data={"body": body})


def test_family_comments_wait_for_a_teacher_where_the_class_asks_for_approval(client, new_client, session):
    _school, teacher, maya, _sam, mother, _father = _families(session, approval=True)
    note = make_note(session, maya, title="Garden", audience=Audience.family)
    _approve(session, ItemType.artefact, note.id)
    login(client, mother)
    assert client.get(f"/artefacts/{note.id}").status_code == 200
    response = _comment(client, "artefact", note.id, "So proud of you!")
    assert response.status_code == 303
    comment = session.exec(select(Comment)).one()
    assert comment.kind is CommentKind.family and comment.status is CommentStatus.pending
    waiting = session.exec(select(Notification).where(Notification.user_id == teacher.id,
                                                      Notification.kind == NotificationKind.comment_pending)).one()
    assert waiting.link == "/inbox"
    assert session.exec(select(Notification).where(Notification.user_id == maya.id)).first() is None
    owner = new_client()
    login(owner, maya)
    assert "So proud of you!" not in owner.get(f"/feedback/thread?item_type=artefact&item_id={note.id}").text
    staff = new_client()
    login(staff, teacher)
    assert "So proud of you!" in staff.get("/inbox").text


def test_family_comments_show_at_once_without_the_setting(client, new_client, session):
    _school, _teacher, maya, _sam, mother, _father = _families(session)
    reflection = make_reflection(session, maya, title="My week", audience=Audience.family)
    login(client, mother)
    page = client.get(f"/reflections/{reflection.id}")
    assert page.status_code == 200
    thread = client.get(f"/feedback/thread?item_type=reflection&item_id={reflection.id}")
    assert thread.status_code == 200 and 'name="body"' in thread.text
    assert _comment(client, "reflection", reflection.id, "Lovely writing").status_code == 303
    comment = session.exec(select(Comment)).one()
    assert comment.kind is CommentKind.family and comment.status is CommentStatus.visible
    owner = new_client()
    login(owner, maya)
    assert "Lovely writing" in owner.get(f"/feedback/thread?item_type=reflection&item_id={reflection.id}").text


# --- query counts --------------------------------------------------------------------------------


def _share(session, child, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        make_note(session, child, title=f"Note {i}", audience=Audience.family)
        make_reflection(session, child, title=f"Reflection {i}", audience=Audience.family)
        _goal(session, child, title=f"Goal {i}", steps=["One", "Two"])


def _family_showcase(session, owner, title: str) -> None:
    from app.services.showcases.showcases import ShowcaseInput, create_showcase

    create_showcase(session=session, owner=owner, data=ShowcaseInput(title=title, audience=Audience.family))
    session.commit()


def test_family_pages_run_a_constant_number_of_queries(client, session, count_queries):
    school, teacher, maya, sam, mother, _father = _families(session, approval=True)
    link_guardian(session, mother, sam)
    framework = make_framework(session, school)
    level = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id)).first()

    def rate(student, competency) -> None:
        session.add(CompetencyRating(student_id=student.id, competency_id=competency.id, level_id=level.id,
                                     rated_by_id=student.id, source=RatingSource.self))
        session.commit()

    def approve_all() -> None:
        for approval in session.exec(select(ItemApproval)).all():
            approval.status = ApprovalStatus.approved
            session.add(approval)
        session.commit()

    _share(session, maya, 1)
    rate(maya, framework.competencies[0])
    _family_showcase(session, maya, "Show 0")  # waits for approval, like any family showcase in this class
    approve_all()
    login(client, mother)

    def measure(url: str) -> int:
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200
        return counter.count

    few_home, few_child = measure("/family"), measure(f"/family/children/{maya.id}")
    _share(session, maya, 5, start=1)
    _share(session, sam, 5)
    for competency in framework.competencies[1:]:
        rate(maya, competency)
    for i in range(1, 4):
        _family_showcase(session, maya, f"Show {i}")
    third = make_user(session, school, display_name="Third child")
    make_class(session, school, students=[third])
    link_guardian(session, mother, third)
    approve_all()
    many_home, many_child = measure("/family"), measure(f"/family/children/{maya.id}")
    page = client.get(f"/family/children/{maya.id}").text
    assert "Goal 5" in page and "Show 3" in page
    assert many_home == few_home, (few_home, many_home)
    assert many_child == few_child, (few_child, many_child)


def test_the_family_home_takes_the_same_queries_for_one_child_or_four(client, session, count_queries):
    from datetime import timedelta

    from app.models import ConferenceInvite, ConferenceSlot
    from app.models.base import utcnow

    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    mother = make_user(session, school, Role.guardian)
    login(client, mother)

    def add_child(index: int) -> None:
        child = make_user(session, school, display_name=f"Child {index}")
        school_class = make_class(session, school, teachers=[teacher], students=[child])
        school_class.family_items_need_approval = index == 0  # one child's class asks for approval
        session.add(school_class)
        link_guardian(session, mother, child)
        _share(session, child, 1, start=index)
        _family_showcase(session, child, f"Show of {index}")
        showcase = session.exec(select(Showcase).where(Showcase.owner_id == child.id)).one()
        showcase.ready = True
        slot = ConferenceSlot(class_id=school_class.id, student_id=child.id, starts_at=utcnow() + timedelta(days=3),
                              location="Room 4")
        session.add_all([showcase, slot])
        session.flush()
        session.add(ConferenceInvite(slot_id=slot.id, guardian_id=mother.id))
        for approval in session.exec(select(ItemApproval)).all():
            approval.status = ApprovalStatus.approved
            session.add(approval)
        session.commit()

    counts = []
    for indexes in ((0,), (1, 2, 3)):
        for index in indexes:
            add_child(index)
        with count_queries() as counter:
            page = unescape(client.get("/family").text)
        counts.append(counter.count)
    assert all(f"See “Show of {index}”" in page and f"Note {index}" in page for index in range(4))
    assert counts[0] == counts[1], counts

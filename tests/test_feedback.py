"""Feedback: comments by role, peer approval, reports, next steps into goals, requests, and the teacher inbox."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app.models import (
    Audience, Comment, CommentKind, CommentStatus, FeedbackRecipient, FeedbackRequest, Goal, GoalStep, ItemType,
    Notification, NotificationKind, RequestStatus, Role,
)
from app.models.base import utcnow
from app.services.portfolio.goal_forms import GoalData
from app.services.portfolio.goals import create_goal
from tests.factories import (
    link_guardian, login, make_class, make_note, make_reflection, make_school, make_user, post_multipart,
)
from tests.test_filetypes import wav_bytes
from tests.stored import stored_keys


def _classroom(session, *, approval: bool = True):
    """A teacher with two students, Maya and Leo, in one class."""
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    maya = make_user(session, school, display_name="Maya")
    leo = make_user(session, school, display_name="Leo")
    school_class = make_class(session, school, teachers=[teacher], students=[maya, leo])
    school_class.peer_comments_need_approval = approval
    session.add(school_class)
    session.commit()
    return school, teacher, maya, leo


def _thread(client, item_type: str, item_id: int):
    return client.get(f"/feedback/thread?item_type={item_type}&item_id={item_id}")


def _comment(client, item_type: str, item_id: int, **fields):
    return client.post(f"/feedback/comments?item_type={item_type}&item_id={item_id}", data=fields)


def _notifications(session, user, kind: NotificationKind) -> list[Notification]:
    session.expire_all()
    return list(session.exec(select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)).all())


def _goal(session, owner, title: str = "Write clearer reports") -> Goal:
    data = GoalData(title=title, why="", success_criteria="", target_date=None, audience=Audience.private,
                    competency_ids=set(), steps=[])
    goal = create_goal(session=session, owner=owner, data=data)
    session.commit()
    return goal


def test_peer_comment_waits_for_approval_before_its_subject_sees_it(client, new_client, session):
    _school, teacher, maya, leo = _classroom(session)
    note = make_note(session, maya, title="Volcano model", audience=Audience.class_)
    login(client, leo)
    empty = _comment(client, "artefact", note.id, noticed="", wonder="", next_time="")
    assert empty.status_code == 422 and "Fill in at least one" in empty.text
    response = _comment(client, "artefact", note.id, noticed="The lava colours", wonder="How tall it is")
    assert response.status_code == 303
    comment = session.exec(select(Comment)).one()
    assert comment.kind is CommentKind.peer and comment.status is CommentStatus.pending
    assert len(_notifications(session, teacher, NotificationKind.comment_pending)) == 1
    assert "The lava colours" in _thread(client, "artefact", note.id).text  # the author sees it waiting

    owner = new_client()
    login(owner, maya)
    assert "The lava colours" not in _thread(owner, "artefact", note.id).text
    assert not _notifications(session, maya, NotificationKind.feedback_received)

    staff = new_client()
    login(staff, teacher)
    assert "The lava colours" in _thread(staff, "artefact", note.id).text
    approved = staff.post(f"/feedback/comments/{comment.id}/review", data={"action": "approve"})
    assert approved.status_code == 303
    page = _thread(owner, "artefact", note.id).text
    assert "The lava colours" in page and "How tall it is" in page
    assert len(_notifications(session, maya, NotificationKind.feedback_received)) == 1


def test_peer_comment_is_visible_at_once_without_approval(client, session):
    _school, _teacher, maya, leo = _classroom(session, approval=False)
    note = make_note(session, maya, audience=Audience.class_)
    login(client, leo)
    assert _comment(client, "artefact", note.id, next_time="Add a scale").status_code == 303
    assert session.exec(select(Comment)).one().status is CommentStatus.visible
    assert len(_notifications(session, maya, NotificationKind.feedback_received)) == 1


def test_a_reported_comment_disappears_until_a_teacher_reviews_it(client, new_client, session):
    _school, teacher, maya, leo = _classroom(session, approval=False)
    note = make_note(session, maya, audience=Audience.class_)
    login(client, leo)
    _comment(client, "artefact", note.id, noticed="Rude words here")
    comment = session.exec(select(Comment)).one()
    owner = new_client()
    login(owner, maya)
    assert "Rude words here" in _thread(owner, "artefact", note.id).text
    assert owner.post(f"/feedback/comments/{comment.id}/report").status_code == 303
    assert "Rude words here" not in _thread(owner, "artefact", note.id).text
    assert "Rude words here" not in _thread(client, "artefact", note.id).text  # hidden from its author too
    assert len(_notifications(session, teacher, NotificationKind.comment_reported)) == 1

    staff = new_client()
    login(staff, teacher)
    assert "Rude words here" in staff.get("/inbox").text
    staff.post(f"/feedback/comments/{comment.id}/review", data={"action": "restore"})
    assert "Rude words here" in _thread(owner, "artefact", note.id).text
    owner.post(f"/feedback/comments/{comment.id}/report")
    staff.post(f"/feedback/comments/{comment.id}/review", data={"action": "remove", "back": "inbox"})
    session.expire_all()
    assert session.get(Comment, comment.id).status is CommentStatus.removed
    assert "Rude words here" not in _thread(staff, "artefact", note.id).text
    assert "Rude words here" not in _thread(owner, "artefact", note.id).text


def test_a_teachers_next_step_becomes_a_goal_step_or_a_new_goal(client, new_client, session):
    _school, teacher, maya, _leo = _classroom(session)
    goal = _goal(session, maya)
    reflection = make_reflection(session, maya, title="Lab write-up")
    staff = new_client()
    login(staff, teacher)
    _comment(staff, "reflection", reflection.id, body="Good method.", next_step="Label every axis")
    _comment(staff, "reflection", reflection.id, body="Also…", next_step="Practise graphing")
    first, second = session.exec(select(Comment).order_by(Comment.id)).all()
    assert first.kind is CommentKind.teacher

    login(client, maya)
    page = _thread(client, "reflection", reflection.id).text
    assert "Label every axis" in page and f'<option value="{goal.id}">' in page
    response = client.post(f"/feedback/comments/{first.id}/next-step", data={"goal": str(goal.id)})
    assert response.status_code == 303 and response.headers["location"].startswith(f"/goals/{goal.id}")
    assert "Label every axis" in client.get(f"/goals/{goal.id}").text
    again = client.post(f"/feedback/comments/{first.id}/next-step", data={"goal": str(goal.id)})
    assert again.status_code == 303
    session.expire_all()
    assert [s.text for s in session.exec(select(GoalStep).where(GoalStep.goal_id == goal.id))] == ["Label every axis"]
    assert session.get(Comment, first.id).next_step_used_at is not None

    new = client.post(f"/feedback/comments/{second.id}/next-step", data={"goal": "new"})
    created = session.exec(select(Goal).where(Goal.title == "Practise graphing")).one()
    assert new.headers["location"].startswith(f"/goals/{created.id}") and created.owner_id == maya.id
    # Only the owner may use a next step.
    assert staff.post(f"/feedback/comments/{second.id}/next-step", data={"goal": "new"}).status_code == 403


def test_feedback_request_is_asked_answered_and_withdrawn(client, new_client, session):
    _school, teacher, maya, leo = _classroom(session)
    note = make_note(session, maya, title="Poem", audience=Audience.class_)
    private = make_note(session, maya, title="Diary")
    login(client, maya)
    form = client.get(f"/feedback/requests/new?item_type=artefact&item_id={note.id}")
    assert "Ms Rivera" in form.text and "Leo" in form.text
    blind = client.post("/feedback/requests", data={"item_type": "artefact", "item_id": private.id,
                                                    "recipient_ids": [leo.id], "question": "Ok?"})
    assert blind.status_code == 422 and "see this item" in blind.text
    asked = client.post("/feedback/requests", data={"item_type": "artefact", "item_id": note.id,
                                                    "recipient_ids": [teacher.id, leo.id], "question": "Is the rhythm right?"})
    assert asked.status_code == 303
    request = session.exec(select(FeedbackRequest)).one()
    assert request.status is RequestStatus.open
    assert len(_notifications(session, teacher, NotificationKind.request_received)) == 1
    assert len(_notifications(session, leo, NotificationKind.request_received)) == 1

    staff = new_client()
    login(staff, teacher)
    assert "Is the rhythm right?" in staff.get("/inbox").text
    _comment(staff, "artefact", note.id, body="The rhythm works.")
    assert "Is the rhythm right?" not in staff.get("/inbox").text  # the teacher's part is answered
    session.expire_all()
    assert session.get(FeedbackRequest, request.id).status is RequestStatus.open
    peer = new_client()
    login(peer, leo)
    _comment(peer, "artefact", note.id, wonder="What inspired it")
    session.expire_all()
    assert session.get(FeedbackRequest, request.id).status is RequestStatus.answered
    assert all(r.answered_at for r in session.exec(select(FeedbackRecipient)))

    client.post("/feedback/requests", data={"item_type": "artefact", "item_id": note.id,
                                            "recipient_ids": [teacher.id], "question": "And the ending?"})
    assert "And the ending?" in staff.get("/inbox").text
    second = session.exec(select(FeedbackRequest).where(FeedbackRequest.question == "And the ending?")).one()
    assert peer.post(f"/feedback/requests/{second.id}/withdraw").status_code == 404  # only its student
    assert client.post(f"/feedback/requests/{second.id}/withdraw").status_code == 303
    session.expire_all()
    assert session.get(FeedbackRequest, second.id).status is RequestStatus.withdrawn
    assert "And the ending?" not in staff.get("/inbox").text


def test_a_teacher_of_another_class_gets_404_on_a_private_items_thread(client, session):
    school, _teacher, maya, _leo = _classroom(session)
    stranger = make_user(session, school, Role.teacher)
    make_class(session, school, teachers=[stranger], students=[make_user(session, school)])
    note = make_note(session, maya)
    login(client, stranger)
    assert _thread(client, "artefact", note.id).status_code == 404
    assert _comment(client, "artefact", note.id, body="Hello").status_code == 404
    assert session.exec(select(Comment)).first() is None


def test_a_student_cant_comment_on_another_students_private_item(client, session):
    _school, _teacher, maya, leo = _classroom(session)
    note = make_note(session, maya)
    draft = make_reflection(session, maya, audience=Audience.class_, draft=True)
    login(client, leo)
    assert _comment(client, "artefact", note.id, noticed="Hi").status_code == 404
    assert _thread(client, "artefact", note.id).status_code == 404
    assert _comment(client, "reflection", draft.id, noticed="Hi").status_code == 404
    assert _comment(client, "nonsense", note.id, noticed="Hi").status_code == 404
    assert session.exec(select(Comment)).first() is None


def test_a_guardian_comments_on_a_family_item_but_not_a_class_item(client, new_client, session):
    school, _teacher, maya, _leo = _classroom(session)
    guardian = make_user(session, school, Role.guardian, display_name="Maya's dad")
    link_guardian(session, guardian, maya)
    family_note = make_note(session, maya, title="Garden", audience=Audience.family)
    class_note = make_note(session, maya, title="Group work", audience=Audience.class_)
    login(client, guardian)
    assert _comment(client, "artefact", family_note.id, body="So proud of you!").status_code == 303
    comment = session.exec(select(Comment)).one()
    assert comment.kind is CommentKind.family and comment.status is CommentStatus.visible
    assert len(_notifications(session, maya, NotificationKind.feedback_received)) == 1
    assert _comment(client, "artefact", class_note.id, body="Hi").status_code == 404
    owner = new_client()
    login(owner, maya)
    assert "So proud of you!" in _thread(owner, "artefact", family_note.id).text
    # The owner replies; replies to replies are refused.
    assert _comment(owner, "artefact", family_note.id, body="Thanks!", parent_id=str(comment.id)).status_code == 303
    reply = session.exec(select(Comment).where(Comment.parent_id == comment.id)).one()
    assert reply.kind is CommentKind.student
    assert _comment(owner, "artefact", family_note.id, body="Deeper", parent_id=str(reply.id)).status_code == 422


def _pending(session, *, author, owner, item_id: int, text: str, age_minutes: int) -> Comment:
    comment = Comment(item_id=item_id, owner_id=owner.id, author_id=author.id,
                      kind=CommentKind.peer, noticed=text, status=CommentStatus.pending,
                      created_at=utcnow() - timedelta(minutes=age_minutes))
    session.add(comment)
    return comment


def test_inbox_lists_oldest_first_and_approves_in_bulk(client, session):
    _school, teacher, maya, leo = _classroom(session)
    note = make_note(session, maya, title="Bridge", audience=Audience.class_)
    middle = _pending(session, author=leo, owner=maya, item_id=note.id, text="Second oldest", age_minutes=20)
    newest = _pending(session, author=leo, owner=maya, item_id=note.id, text="Newest", age_minutes=5)
    oldest = _pending(session, author=leo, owner=maya, item_id=note.id, text="Oldest", age_minutes=60)
    session.commit()
    login(client, teacher)
    page = client.get("/inbox").text
    assert page.index("Oldest") < page.index("Second oldest") < page.index("Newest")
    response = client.post("/inbox/approve", data={"comment_ids": [oldest.id, newest.id]})
    assert response.status_code == 303
    session.expire_all()
    assert [session.get(Comment, c.id).status for c in (oldest, middle, newest)] == [
        CommentStatus.visible, CommentStatus.pending, CommentStatus.visible]
    assert len(_notifications(session, maya, NotificationKind.feedback_received)) == 2
    page = client.get("/inbox").text
    assert "Second oldest" in page and "Newest" not in page


def test_bulk_approve_ignores_other_teachers_students(client, session):
    school, _teacher, maya, leo = _classroom(session)
    stranger = make_user(session, school, Role.teacher)
    make_class(session, school, teachers=[stranger])
    note = make_note(session, maya, audience=Audience.class_)
    comment = _pending(session, author=leo, owner=maya, item_id=note.id, text="Mine", age_minutes=1)
    session.commit()
    login(client, stranger)
    assert "Mine" not in client.get("/inbox").text
    client.post("/inbox/approve", data={"comment_ids": [comment.id]})
    session.expire_all()
    assert session.get(Comment, comment.id).status is CommentStatus.pending


def test_inbox_runs_the_same_number_of_queries_for_3_or_20_pending(client, session, count_queries):
    school, teacher, maya, leo = _classroom(session)
    note = make_note(session, maya, audience=Audience.class_)
    login(client, teacher)

    def queries_with(total: int) -> int:
        while len(session.exec(select(Comment)).all()) < total:
            _pending(session, author=leo, owner=maya, item_id=note.id, text="Nice", age_minutes=1)
            session.commit()
        request = FeedbackRequest(student_id=maya.id, item_id=note.id, question="Q?")
        session.add(request)
        session.flush()
        session.add(FeedbackRecipient(request_id=request.id, user_id=teacher.id))
        session.commit()
        with count_queries() as counter:
            assert client.get("/inbox").status_code == 200
        return counter.count

    assert queries_with(3) == queries_with(20)


def test_thread_runs_the_same_number_of_queries_whatever_its_length(client, session, count_queries):
    _school, teacher, maya, leo = _classroom(session, approval=False)
    note = make_note(session, maya, audience=Audience.class_)
    login(client, maya)

    def queries_with(total: int) -> int:
        while len(session.exec(select(Comment)).all()) < total:
            session.add(Comment(item_id=note.id, owner_id=maya.id, author_id=leo.id,
                                kind=CommentKind.peer, noticed="Nice", status=CommentStatus.visible))
            session.commit()
        with count_queries() as counter:
            assert _thread(client, "artefact", note.id).status_code == 200
        return counter.count

    assert queries_with(2) == queries_with(15)


def test_item_pages_load_the_thread_with_a_plain_link_fallback(client, session):
    _school, _teacher, maya, _leo = _classroom(session)
    note = make_note(session, maya)
    reflection = make_reflection(session, maya)
    goal = _goal(session, maya)
    login(client, maya)
    for path, item_type, item_id in [(f"/artefacts/{note.id}", "artefact", note.id),
                                     (f"/reflections/{reflection.id}", "reflection", reflection.id),
                                     (f"/goals/{goal.id}", "goal", goal.id)]:
        page = client.get(path).text
        assert f'href="/feedback/thread?item_type={item_type}&amp;item_id={item_id}"' in page
    fragment = client.get(f"/feedback/thread?item_type=goal&item_id={goal.id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'id="comments"' in fragment.text


@pytest.mark.storage
def test_a_teacher_records_audio_feedback_kept_as_the_students_audio_artefact(client, new_client, session, settings):
    from app.models import Artefact, MediaKind, User

    _school, teacher, maya, leo = _classroom(session)
    note = make_note(session, maya, title="Speech", audience=Audience.class_)
    login(client, teacher)
    url = f"/feedback/comments?item_type=artefact&item_id={note.id}"
    page = _thread(client, "artefact", note.id).text
    assert 'enctype="multipart/form-data"' in page and 'name="audio"' in page
    response = post_multipart(client, url, {"body": ""}, files={"audio": ("feedback.wav", wav_bytes(), "audio/wav")})
    assert response.status_code == 303, response.text
    comment = session.exec(select(Comment)).one()
    session.expire_all()
    audio = session.get(Artefact, comment.audio_artefact_id)
    # Saved private: it is part of the comment, heard by whoever may see the comment (tests/test_recordings.py).
    assert audio.owner_id == maya.id and audio.media_kind is MediaKind.audio and audio.audience is Audience.private
    assert session.get(User, maya.id).storage_used_bytes >= audio.size_bytes
    assert f"/files/{audio.id}/original" in _thread(client, "artefact", note.id).text
    assert client.get(f"/files/{audio.id}/original").status_code == 200  # the teacher may hear it, like the item
    owner = new_client()
    login(owner, maya)
    assert owner.get(f"/files/{audio.id}/original").status_code == 200
    # Not a recording: refused, nothing kept; students can't attach recordings at all.
    refused = post_multipart(client, url, {"body": ""}, files={"audio": ("notes.txt", b"just text", "text/plain")})
    assert refused.status_code == 422
    peer = new_client()
    login(peer, leo)
    post_multipart(peer, url, {"noticed": "Loud"}, files={"audio": ("x.wav", wav_bytes(), "audio/wav")})
    session.expire_all()
    assert len(session.exec(select(Artefact).where(Artefact.media_kind == MediaKind.audio)).all()) == 1
    files = stored_keys(settings)
    assert len(files) == 1
    # Reported, the recording hides with its comment (a direct link included), except from the teachers;
    # removed, from everyone.
    assert peer.get(f"/files/{audio.id}/original").status_code == 200  # on a class item: classmates hear it
    assert owner.post(f"/feedback/comments/{comment.id}/report").status_code == 303
    assert owner.get(f"/files/{audio.id}/original").status_code == 404
    assert peer.get(f"/files/{audio.id}/original").status_code == 404
    assert client.get(f"/files/{audio.id}/original").status_code == 200
    client.post(f"/feedback/comments/{comment.id}/review", data={"action": "remove"})
    assert client.get(f"/files/{audio.id}/original").status_code == 404


def test_the_students_home_shows_their_latest_visible_feedback_in_constant_queries(client, new_client, session,
                                                                                  count_queries):
    """Issue 13: the "Recent feedback" card only ever showed its fixed hint."""
    _school, teacher, maya, leo = _classroom(session, approval=True)
    note = make_note(session, maya, title="Volcano model", audience=Audience.class_)
    reflection = make_reflection(session, maya, title="Lab write-up", audience=Audience.class_)
    login(client, maya)
    assert "comment on your work, it shows up here" in client.get("/student").text

    staff = new_client()
    login(staff, teacher)
    _comment(staff, "reflection", reflection.id, body="Good method, Maya.", next_step="Label every axis")
    peer = new_client()
    login(peer, leo)
    _comment(peer, "artefact", note.id, noticed="The lava colours")  # waits for approval: not shown yet
    _comment(client, "artefact", note.id, body="My own reply")  # the student's own words are not feedback

    page = client.get("/student").text
    assert "Good method, Maya." in page and "Ms Rivera" in page and "Lab write-up" in page
    teacher_comment = session.exec(select(Comment).where(Comment.author_id == teacher.id)).one()
    assert f'/reflections/{reflection.id}#comment-{teacher_comment.id}' in page
    assert "The lava colours" not in page and "My own reply" not in page
    assert "comment on your work, it shows up here" not in page
    # Another student never sees Maya's feedback on their own home.
    assert "Good method, Maya." not in peer.get("/student").text

    def queries_with(total: int) -> int:
        while len(session.exec(select(Comment).where(Comment.author_id == leo.id)).all()) < total:
            session.add(Comment(item_id=note.id, owner_id=maya.id, author_id=leo.id,
                                kind=CommentKind.peer, noticed="Nice", status=CommentStatus.visible))
            session.commit()
        with count_queries() as counter:
            assert client.get("/student").status_code == 200
        return counter.count

    assert queries_with(2) == queries_with(9)


def test_a_next_step_defaults_to_the_goal_the_item_belongs_to_else_a_new_goal(client, new_client, session):
    """Issue 13: the first goal alphabetically was chosen for every next step, and a child accepts the default."""
    import re

    _school, teacher, maya, _leo = _classroom(session)
    first = _goal(session, maya, "Aardvark facts")
    mine = _goal(session, maya, "Zoom in on detail")
    photo = make_note(session, maya, title="Close-up drawing", audience=Audience.class_)
    reflection = make_reflection(session, maya, title="Looking closer", audience=Audience.class_,
                                 goal_ids=[mine.id], artefact_ids=[photo.id])
    loose = make_note(session, maya, title="Lunch menu", audience=Audience.class_)
    staff = new_client()
    login(staff, teacher)
    for item_type, item_id in (("reflection", reflection.id), ("artefact", photo.id), ("goal", mine.id),
                               ("artefact", loose.id)):
        assert _comment(staff, item_type, item_id, body="Well done.", next_step="Try a magnifier").status_code == 303

    login(client, maya)

    def selected(item_type: str, item_id: int) -> list[str]:
        page = _thread(client, item_type, item_id).text
        return re.findall(r'<option value="(\w+)" selected>', page)

    assert selected("reflection", reflection.id) == [str(mine.id)]
    assert selected("artefact", photo.id) == [str(mine.id)]  # evidence for a reflection about that goal
    assert selected("goal", mine.id) == [str(mine.id)]
    assert selected("artefact", loose.id) == ["new"]
    assert first.id  # the alphabetically first goal is offered, never preselected

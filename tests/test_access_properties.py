"""Random sequences of what people do (create, comment, request, approve, showcase, delete) across several students,
checking after every step that nobody can see what the rules forbid and that no row references a missing item.

The model below is the rules from first principles, kept apart from app code on purpose: the owner sees their own
items; their teachers see them unless drafts; classmates see class items; guardians see family items (approved where
the class holds them); everyone else sees nothing. Comments belong to the item they were written on, so a thread
never shows a comment posted anywhere else (the old id-reuse bug).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field


import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test
from sqlmodel import Session, select

from app.access import NotFound
from app.main import create_app
from app.models import ApprovalStatus, Audience, ItemApproval, Role
from app.services.moderation import approvals
from app.services.moderation import comment_writing, thread_items
from app.services.moderation import feedback
from app.services.moderation import feedback_requests
from app.services.portfolio import goals
from app.services.showcases import showcases
from app.services.portfolio.artefacts import delete_artefact
from app.services.portfolio.goal_forms import GoalData
from app.services.portfolio.reflections import delete_reflection
from tests.conftest import make_settings
from tests.factories import link_guardian, make_class, make_note, make_reflection, make_school, make_user

AUDIENCES = [Audience.private, Audience.class_, Audience.family]
# Tables whose item_id must name an existing item (NULL allowed where the column is nullable).
ITEM_REFERENCES = ("comments", "feedback_requests", "item_approvals", "showcase_items", "notifications")


@dataclass
class ModelItem:
    id: int
    kind: str  # artefact, reflection, goal
    owner: str
    audience: Audience
    draft: bool = False
    approved: bool = False
    comments: set[str] = field(default_factory=set)  # bodies posted on this item


class Portfolio(RuleBasedStateMachine):
    """One school: class A (approval on) with teacher ta, students s1 and s2; class B with tb and s3; g1 is s1's
    guardian, g3 is s3's; stranger is a guardian of nobody."""

    make_database = None  # set by the test: returns (database_url, cleanup)
    tmp_path = None

    @initialize()
    def build_school(self) -> None:
        self.url, self.cleanup = self.make_database()
        self.app = create_app(make_settings(self.tmp_path / uuid.uuid4().hex[:8], self.url))
        self.session = Session(self.app.state.engine, expire_on_commit=False)
        s = self.session
        school = make_school(s)
        self.people = {name: make_user(s, school, role) for name, role in (
            ("s1", Role.student), ("s2", Role.student), ("s3", Role.student), ("ta", Role.teacher),
            ("tb", Role.teacher), ("g1", Role.guardian), ("g3", Role.guardian), ("stranger", Role.guardian))}
        p = self.people
        class_a = make_class(s, school, teachers=[p["ta"]], students=[p["s1"], p["s2"]])
        class_a.family_items_need_approval = True
        s.add(class_a)
        make_class(s, school, teachers=[p["tb"]], students=[p["s3"]])
        link_guardian(s, p["g1"], p["s1"])
        link_guardian(s, p["g3"], p["s3"])
        s.commit()
        self.items: dict[int, ModelItem] = {}
        self.showcase_ids: list[int] = []
        self.counter = 0

    def teardown(self) -> None:
        if hasattr(self, "session"):
            self.session.close()
            self.app.state.engine.dispose()
            self.cleanup()

    # --- the rules, from first principles ---------------------------------------------------------------

    def may_see(self, viewer: str, item: ModelItem) -> bool:
        if viewer == item.owner:
            return True
        if item.draft:
            return False
        class_of = {"s1": "A", "s2": "A", "s3": "B"}
        if viewer in ("ta", "tb"):
            return class_of[item.owner] == {"ta": "A", "tb": "B"}[viewer]
        if viewer in ("s1", "s2", "s3"):
            return class_of[viewer] == class_of[item.owner] and item.audience is Audience.class_
        guardian_of = {"g1": "s1", "g3": "s3"}
        if guardian_of.get(viewer) != item.owner or item.audience is not Audience.family:
            return False
        return item.approved or class_of[item.owner] != "A"

    # --- what people do ---------------------------------------------------------------------------------

    def _add(self, obj, kind: str, owner: str, audience: Audience, draft: bool = False) -> None:
        self.session.commit()
        assert obj.id not in self.items, "an id was handed out twice"
        self.items[obj.id] = ModelItem(obj.id, kind, owner, audience, draft)

    @rule(owner=st.sampled_from(["s1", "s2", "s3"]), audience=st.sampled_from(AUDIENCES))
    def create_note(self, owner, audience) -> None:
        note = make_note(self.session, self.people[owner], title=f"Note {len(self.items)}", audience=audience)
        self._add(note, "artefact", owner, audience)

    @rule(owner=st.sampled_from(["s1", "s2", "s3"]), audience=st.sampled_from(AUDIENCES), draft=st.booleans())
    def create_reflection(self, owner, audience, draft) -> None:
        reflection = make_reflection(self.session, self.people[owner], title=f"Reflection {len(self.items)}",
                                     audience=audience, draft=draft)
        self._add(reflection, "reflection", owner, audience, draft)

    @rule(owner=st.sampled_from(["s1", "s2", "s3"]), audience=st.sampled_from(AUDIENCES))
    def create_goal(self, owner, audience) -> None:
        goal = goals.create_goal(session=self.session, owner=self.people[owner], data=GoalData(
            title=f"Goal {len(self.items)}", why="", success_criteria="", target_date=None, audience=audience,
            competency_ids=set(), steps=["First step"]))
        self._add(goal, "goal", owner, audience)

    def _some(self, data) -> ModelItem:
        return self.items[data.draw(st.sampled_from(sorted(self.items)))]

    @precondition(lambda self: self.items)
    @rule(data=st.data(), author=st.sampled_from(["s1", "s2", "s3", "ta", "tb", "g1", "g3"]))
    def comment(self, data, author) -> None:
        item = self._some(data)
        if not self.may_see(author, item) or item.draft:
            return
        self.counter += 1
        body = f"Comment {self.counter} by {author}"
        viewer = self.people[author]
        thread_item = thread_items.item_visible_by_id(session=self.session, viewer=viewer, item_id=item.id)
        saved = comment_writing.add_comment(session=self.session, author=viewer, item=thread_item,
                                     data=comment_writing.CommentInput(body=body))
        assert saved is not None
        self.session.commit()
        item.comments.add(body)

    @precondition(lambda self: self.items)
    @rule(data=st.data())
    def ask_for_feedback(self, data) -> None:
        item = self._some(data)
        if item.draft:
            return
        owner = self.people[item.owner]
        teacher = self.people["ta" if item.owner in ("s1", "s2") else "tb"]
        thread_item = thread_items.item_visible_by_id(session=self.session, viewer=owner, item_id=item.id)
        request, errors = feedback_requests.request_feedback(session=self.session, student=owner, item=thread_item,
                                                             recipient_ids={teacher.id}, question="Is it clear?")
        assert request is not None, errors
        self.session.commit()

    @rule(teacher=st.sampled_from(["ta", "tb"]))
    def approve_everything_waiting(self, teacher) -> None:
        waiting = approvals.waiting_for(session=self.session, teacher=self.people[teacher])
        for row in waiting:
            approvals.approve(session=self.session, teacher=self.people[teacher], approval_id=row.approval.id)
            self.items[row.approval.item_id].approved = True
        self.session.commit()

    @precondition(lambda self: self.items)
    @rule(data=st.data(), audience=st.sampled_from(AUDIENCES))
    def share_differently(self, data, audience) -> None:
        item = self._some(data)
        if item.kind != "artefact":
            return
        from app.models import Artefact
        from app.services.portfolio.artefacts import ArtefactInput, update_artefact

        artefact = self.session.get(Artefact, item.id)
        update_artefact(session=self.session, artefact=artefact, data=ArtefactInput(
            title=artefact.title, body=artefact.body, audience=audience, occurred_on=artefact.occurred_on))
        self.session.commit()
        item.audience = audience
        item.approved = self._approved_in_database(item.id)

    def _approved_in_database(self, item_id: int) -> bool:
        self.session.expire_all()
        status = self.session.exec(select(ItemApproval.status).where(ItemApproval.item_id == item_id)).first()
        return status is ApprovalStatus.approved

    @precondition(lambda self: self.items)
    @rule(data=st.data())
    def showcase_it(self, data) -> None:
        item = self._some(data)
        if item.draft:
            return
        owner = self.people[item.owner]
        showcase = showcases.create_showcase(session=self.session, owner=owner, data=showcases.parse_showcase(
            title=f"Showcase {item.id}", introduction="", audience="private"))
        showcases.add_item(session=self.session, owner=owner, showcase=showcase,
                           item_type=showcases.parse_item_type(item.kind), item_id=item.id)
        self.session.commit()
        self.showcase_ids.append(showcase.id)

    @precondition(lambda self: self.items)
    @rule(data=st.data())
    def delete(self, data) -> None:
        item = self._some(data)
        from app.models import Artefact, Goal, Reflection

        if item.kind == "artefact":
            delete_artefact(session=self.session, artefact=self.session.get(Artefact, item.id))
        elif item.kind == "reflection":
            delete_reflection(session=self.session, reflection=self.session.get(Reflection, item.id))
        else:
            goals.delete_goal(session=self.session, goal=self.session.get(Goal, item.id))
        self.session.commit()
        del self.items[item.id]

    # --- what must hold after every step ----------------------------------------------------------------

    @invariant()
    def no_reference_to_a_missing_item(self) -> None:
        if not hasattr(self, "session"):
            return
        connection = self.session.connection()
        for table in ITEM_REFERENCES:
            dangling = connection.execute(sa.text(
                f"SELECT count(*) FROM {table} WHERE item_id IS NOT NULL "
                f"AND item_id NOT IN (SELECT id FROM items)")).scalar_one()
            assert dangling == 0, f"{table} points at {dangling} missing item(s)"
        for table in ("artefacts", "reflections", "goals"):
            kind = table[:-1]
            without_item = connection.execute(sa.text(
                f"SELECT count(*) FROM {table} WHERE id NOT IN (SELECT id FROM items WHERE type = '{kind}')")).scalar_one()
            without_row = connection.execute(sa.text(
                f"SELECT count(*) FROM items WHERE type = '{kind}' AND id NOT IN (SELECT id FROM {table})")).scalar_one()
            assert without_item == without_row == 0
        self.session.commit()

    @invariant()
    def nobody_sees_what_the_rules_forbid(self) -> None:
        if not hasattr(self, "session"):
            return
        self.session.expire_all()
        for viewer_name, viewer in self.people.items():
            for item in self.items.values():
                try:
                    found = thread_items.item_visible_by_id(session=self.session, viewer=viewer, item_id=item.id)
                except NotFound:
                    found = None
                assert (found is not None) == self.may_see(viewer_name, item), (viewer_name, item)
                if found is not None and viewer_name == item.owner:
                    thread = feedback.visible_comments(session=self.session, viewer=viewer, item_type=found.type,
                                                       item_id=item.id)
                    shown = {view.comment.body for view in thread.comments}
                    assert shown <= item.comments, f"comments from elsewhere on {item}: {shown - item.comments}"
        self.session.commit()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_random_sequences_keep_the_access_rules(request, tmp_path, backend):
    def make_database():
        if backend == "sqlite":
            path = tmp_path / f"{uuid.uuid4().hex[:8]}.db"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
        # The process's reused database (tests/conftest.py: ReusedPostgres), emptied after each example.
        database = request.getfixturevalue("reused_postgres")
        return database.take(), database.give_back

    Portfolio.make_database = staticmethod(make_database)
    Portfolio.tmp_path = tmp_path
    run_state_machine_as_test(Portfolio, settings=settings(
        max_examples=8 if backend == "postgresql" else 15, stateful_step_count=20, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck), database=None))

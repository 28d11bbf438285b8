"""The access matrix: every route of the app, asked by ten kinds of viewer about a student's things in every state.

One school is built once per database: Maya (the owner) and a classmate in class A with their teacher, a student and
a teacher of class B, Maya's guardian and another student's guardian, the school's admin, another school's admin, and
a signed-out visitor. Class A lets classmates see class items and holds family items (and family and peer comments)
for a teacher's approval. Maya keeps notes, links, files, spoken reflections, goals and showcases in each state:
private, class, family (approved), family still waiting for approval ("pending"), and a draft reflection; around them
hang comments, recordings, feedback requests, approvals, showcase entries, secret links and responses, a conference
slot, an invitation, a notification and a finished job.

RULES decides, for every (method, path template) of the app, who may use it; a route missing from it, or an entry
naming a route that is gone, fails the test, so no route can be added without deciding its access. Each rule says, per
viewer and state, whether a request is allowed, hidden (404: other people's things don't exist for you), forbidden
(403: a page for another role) or sent to sign in. On top of the status:
- a refused request must change nothing: the database and the upload folder are compared before and after;
- an allowed page must not show words of Maya's (titles, comments, questions) that its viewer may not see.
A visitor, and a signed-in user of the wrong role, are turned away by a route's guard before it looks at any item,
so they are asked about each route's first (most private) case only; everyone else is asked about every case.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, select

from app.main import create_app
from app.models import (
    ApiToken, Credential, Goal, GoalStatus,
    EnrolledVia,
    ApprovalStatus, Artefact, ClassRole, Comment, CommentStatus, ConferenceSlot, FamilyInvitation, FeedbackRequest,
    GoalStep, ItemApproval, ItemType, Job, Notification, ProficiencyLevel, Reflection, Role, SchoolClass, SchoolTerm,
    ShareLink,
    ShowcaseItem, User,
)
from app.services.jobs import job_runs
from app.services.classes.classes import enroll
from tests.conftest import fast_hashing, make_settings
from tests.factories import link_guardian, login, make_class, make_framework, make_school, make_user, post_multipart
from tests.media import png
from tests.test_filetypes import wav_bytes

# --- viewers, states and outcomes --------------------------------------------------------------

VIEWERS = ("owner", "classmate", "teacher", "other_student", "other_teacher", "guardian", "other_guardian", "admin",
           "foreign_admin", "anon")
ROLE_OF = {"owner": "student", "classmate": "student", "other_student": "student", "teacher": "teacher",
           "other_teacher": "teacher", "guardian": "guardian", "other_guardian": "guardian", "admin": "admin",
           "foreign_admin": "admin", "anon": None}

# private, class and family are the audiences; "pending" is a family item no teacher has approved yet (class A asks
# for approval); "draft" is a draft reflection (with the class audience, so only its draft status keeps it hidden).
STATES = ("private", "class", "family", "pending", "draft")
AUDIENCE = {"private": "private", "class": "class", "family": "family", "pending": "family", "draft": "class"}

# What a case is about. Artefacts come as notes, links, uploaded files, a reflection's recording and a teacher's
# spoken feedback (both audio artefacts of the student's); comments, requests and approvals hang off notes,
# reflections and goals.
ARTEFACT_KINDS = ("note", "link", "file", "recording", "feedback_audio")
THREAD_KINDS = ("note", "reflection", "goal")
ITEM_TYPE = {"note": "artefact", "reflection": "reflection", "goal": "goal"}

ALLOWED, HIDDEN, FORBIDDEN, LOGIN, NOOP = "allowed", "hidden", "forbidden", "login", "noop"


@dataclass(frozen=True)
class Case:
    state: str = "-"
    kind: str = "-"

    def __str__(self) -> str:
        return "" if self.state == "-" else f" [{self.state}{'' if self.kind == '-' else ' ' + self.kind}]"


# --- the rules ---------------------------------------------------------------------------------


def sees_item(viewer: str, case: Case) -> bool:
    """The audience rules (app.access): the owner everything, their teacher all but drafts, the
    classmate class items, the guardian approved family items."""
    return (viewer == "owner" or (viewer == "teacher" and case.state != "draft")
            or (viewer == "classmate" and case.state == "class") or (viewer == "guardian" and case.state == "family"))


@dataclass(frozen=True)
class Rule:
    """Signed out: sent to sign in. A role guard answers 403 to other roles; within the role, `allowed` decides,
    and everyone else gets 404. `noop` viewers are let in but must change nothing (bulk actions that ignore
    what isn't theirs)."""

    allowed: Callable[[str, Case], bool]
    roles: frozenset[str] | None = None
    noop: frozenset[str] = frozenset()
    public: bool = False
    everyone: str | None = None  # the same answer for all

    def expect(self, viewer: str, case: Case) -> str:
        if self.everyone is not None:
            return self.everyone
        if viewer == "anon":
            return ALLOWED if self.public else LOGIN
        if self.roles is not None and ROLE_OF[viewer] not in self.roles:
            return FORBIDDEN
        if self.allowed(viewer, case):
            return ALLOWED
        return NOOP if viewer in self.noop else HIDDEN


def _everyone(_viewer, _case) -> bool:
    return True


def _only(*viewers: str) -> Callable[[str, Case], bool]:
    return lambda viewer, _case: viewer in viewers


def _role(*roles: str) -> Rule:
    return Rule(_everyone, roles=frozenset(roles))


RULE_KINDS: dict[str, Rule] = {
    "public": Rule(_everyone, public=True),
    # "/" sends a visitor to the sign-in page: that is its job, not a guard (test_route_guard tells them apart).
    "front_door": Rule(_everyone),
    # signing out ends on the sign-in page, whoever asks (asked last of all)
    "signs_out": Rule(_everyone, everyone=LOGIN),
    "signed_in": Rule(_everyone),
    "student": _role("student"),
    "teacher": _role("teacher"),
    "guardian": _role("guardian"),
    "admin": _role("admin"),
    "staff": _role("teacher", "admin"),
    # the owner's own things: everyone else gets 404 (with a student-only page, other roles 403)
    "owner": Rule(_only("owner")),
    "owner_as_student": Rule(_only("owner"), roles=frozenset({"student"})),
    # an item (or what hangs off it) under the audience rules
    "item_read": Rule(sees_item),
    # a showcase's family responses: the student, their teachers and the family it is shared with
    "showcase_responses": Rule(lambda viewer, case: viewer != "classmate" and sees_item(viewer, case)),
    # answering a showcase from a guardian's own login
    "family_respond": Rule(lambda viewer, case: viewer == "guardian" and case.state == "family"),
    # reacting to an item: the child's guardian, on what families see; everyone else (teachers too) gets 404
    "family_react": Rule(lambda viewer, case: viewer == "guardian" and case.state == "family"),
    # the student's teacher, on a teacher-only page (other teachers: 404)
    "teacher_of_student": Rule(_only("teacher"), roles=frozenset({"teacher"})),
    # the student's teacher or the school's admin, on a page anyone may ask for (all others: 404)
    "staff_of_student": Rule(_only("teacher", "admin")),
    # the same on a staff-only page (students and families: 403)
    "staff_of_student_as_staff": Rule(_only("teacher", "admin"), roles=frozenset({"teacher", "admin"})),
    "admin_of_student": Rule(_only("admin")),
    "guardian_of_student": Rule(_only("guardian"), roles=frozenset({"guardian"})),
    # class A's teacher (conferences are theirs alone: the admin too gets 404)
    "teacher_of_class": Rule(_only("teacher")),
    "teacher_of_class_as_teacher": Rule(_only("teacher"), roles=frozenset({"teacher"})),
    # class A's teacher or the school's admin, on staff-only pages
    "staff_of_class": Rule(_only("teacher", "admin"), roles=frozenset({"teacher", "admin"})),
    # the school's own admin (another school's admin: 404)
    "admin_of_school": Rule(_only("admin"), roles=frozenset({"admin"})),
    # a new person's setup link: public, and a link that isn't one (used, expired, made up) is 404 for everyone
    "unknown_link": Rule(_everyone, public=True, everyone=HIDDEN),
    # a teacher's bulk action naming Maya's things: another teacher is let in but changes nothing
    # the JSON API (app.api) takes bearer tokens only: a signed-in browser's cookie gets 401, whoever it is
    # (tests/test_api_access.py asks every API route as these viewers with their tokens)
    "bearer_only": Rule(_everyone, public=True, everyone=LOGIN),
    "teacher_bulk": Rule(_only("teacher"), roles=frozenset({"teacher"}), noop=frozenset({"other_teacher"})),
    # an Open Badges credential's pages in Folio: the student, their teacher (its issuer), the school's admin and the
    # student's linked guardian
    "credential_read": Rule(_only("owner", "teacher", "admin", "guardian")),
}

# Every route of the app and who may use it. Adding a route means adding a line here.
RULES: dict[tuple[str, str], str] = {
    ("GET", "/credentials"): "student",
    ("GET", "/admin/credentials"): "admin",
    ("GET", "/credentials/{public_id}"): "credential_read",
    ("GET", "/credentials/{public_id}/download"): "credential_read",
    ("GET", "/credentials/{public_id}/image.png"): "credential_read",
    ("GET", "/credentials/{public_id}/image.svg"): "credential_read",
    ("GET", "/credentials/{public_id}/revoke"): "staff_of_student",
    ("POST", "/credentials/{public_id}/revoke"): "staff_of_student",
    ("POST", "/credentials/award/ratings/{rating_id}"): "teacher_of_student",
    ("POST", "/credentials/award/goals/{goal_id}"): "teacher_of_student",
    ("GET", "/badges/issuers/{school_id}"): "public",
    ("GET", "/badges/issuers/{school_id}/status/{list_number}"): "public",
    ("GET", "/badges/credentials/{public_id}"): "public",
    ("GET", "/badges/credentials/{public_id}/verify"): "public",
    ("GET", "/badges/verify"): "public",
    ("POST", "/badges/verify"): "public",
    # the front door, signing in and out, the language
    ("GET", "/static"): "public",
    ("GET", "/"): "front_door",
    ("GET", "/healthz"): "public",
    ("POST", "/language"): "public",
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("POST", "/logout"): "signs_out",
    ("GET", "/invite"): "public",
    ("POST", "/invite"): "public",
    # one's own account and home
    ("GET", "/account"): "signed_in",
    ("POST", "/account/language"): "signed_in",
    ("POST", "/account/notifications"): "signed_in",
    ("POST", "/account/about"): "signed_in",
    ("GET", "/account/password"): "signed_in",
    ("POST", "/account/password"): "signed_in",
    ("POST", "/account/tokens"): "signed_in",
    ("POST", "/account/tokens/{token_id}/revoke"): "owner",
    ("GET", "/api/v1"): "bearer_only",
    ("GET", "/home"): "signed_in",
    ("GET", "/student"): "student",
    ("GET", "/teacher"): "teacher",
    ("GET", "/family"): "guardian",
    ("GET", "/admin"): "admin",
    ("GET", "/admin/people"): "admin",
    ("GET", "/admin/audit"): "admin",
    # the school's people and classes (admins; a person, class or term of another school: 404)
    ("GET", "/admin/people/new"): "admin",
    ("POST", "/admin/people/new"): "admin",
    ("GET", "/admin/people/{user_id}"): "admin_of_school",
    ("POST", "/admin/people/{user_id}"): "admin_of_school",
    ("POST", "/admin/people/{user_id}/deactivate"): "admin_of_school",
    ("POST", "/admin/people/{user_id}/reactivate"): "admin_of_school",
    ("POST", "/admin/people/{user_id}/setup-link"): "admin_of_school",
    ("POST", "/admin/people/{user_id}/archive"): "admin_of_school",
    ("GET", "/admin/people/{user_id}/delete"): "admin_of_school",
    ("POST", "/admin/people/{user_id}/delete"): "admin_of_school",
    ("GET", "/admin/classes"): "admin",
    ("POST", "/admin/terms"): "admin",
    ("POST", "/admin/classes/{class_id}/teachers"): "admin_of_school",
    ("GET", "/admin/terms/{term_id}/rollover"): "admin_of_school",
    ("POST", "/admin/terms/{term_id}/rollover"): "admin_of_school",
    ("GET", "/setup/{token}"): "unknown_link",
    ("POST", "/setup/{token}"): "unknown_link",
    # single sign-on: the world has no provider, so these are 404 for everyone (tests/test_sso.py signs in through one)
    ("GET", "/sso/start"): "unknown_link",
    ("GET", "/sso/callback"): "unknown_link",
    ("GET", "/people/{user_id}/password"): "staff_of_student_as_staff",
    ("POST", "/people/{user_id}/password"): "staff_of_student_as_staff",
    ("GET", "/notifications"): "signed_in",
    ("GET", "/notifications/count"): "signed_in",
    ("POST", "/notifications/{notification_id}/read"): "owner",
    ("POST", "/notifications/read"): "signed_in",
    ("GET", "/conferences"): "signed_in",
    # evidence
    ("GET", "/artefacts"): "student",
    ("GET", "/artefacts/new"): "student",
    ("POST", "/artefacts/upload"): "student",
    ("POST", "/artefacts/note"): "student",
    ("POST", "/artefacts/link"): "student",
    ("GET", "/artefacts/{artefact_id}"): "item_read",
    ("GET", "/artefacts/{artefact_id}/edit"): "owner_as_student",
    ("POST", "/artefacts/{artefact_id}/edit"): "owner_as_student",
    ("GET", "/artefacts/{artefact_id}/delete"): "owner_as_student",
    ("POST", "/artefacts/{artefact_id}/delete"): "owner_as_student",
    ("GET", "/files/{artefact_id}/{variant}"): "item_read",
    # reflections
    ("GET", "/reflections"): "student",
    ("GET", "/reflections/new"): "student",
    ("POST", "/reflections"): "student",
    ("GET", "/reflections/{reflection_id}"): "item_read",
    ("GET", "/reflections/{reflection_id}/edit"): "owner_as_student",
    ("POST", "/reflections/{reflection_id}/edit"): "owner_as_student",
    ("GET", "/reflections/{reflection_id}/delete"): "owner_as_student",
    ("POST", "/reflections/{reflection_id}/delete"): "owner_as_student",
    # goals
    ("GET", "/goals"): "student",
    ("GET", "/goals/new"): "student",
    ("POST", "/goals/new"): "student",
    ("GET", "/goals/{goal_id:int}"): "item_read",
    ("GET", "/goals/{goal_id:int}/edit"): "owner",
    ("POST", "/goals/{goal_id:int}/edit"): "owner",
    ("POST", "/goals/{goal_id:int}/delete"): "owner",
    ("POST", "/goals/{goal_id:int}/steps"): "owner",
    ("POST", "/goals/{goal_id:int}/steps/{step_id:int}/toggle"): "owner",
    ("POST", "/goals/{goal_id:int}/steps/{step_id:int}/rename"): "owner",
    ("POST", "/goals/{goal_id:int}/steps/{step_id:int}/move"): "owner",
    ("POST", "/goals/{goal_id:int}/steps/{step_id:int}/delete"): "owner",
    ("POST", "/goals/{goal_id:int}/checkins"): "owner",
    ("GET", "/goals/{goal_id:int}/achieve"): "owner",
    ("POST", "/goals/{goal_id:int}/achieve"): "owner",
    ("POST", "/goals/{goal_id:int}/status"): "owner",
    # competencies: the student's own, and their teacher's view of them
    ("GET", "/competencies"): "student",
    ("GET", "/competencies/{competency_id}"): "student",
    ("POST", "/competencies/{competency_id}/ratings"): "student",
    ("GET", "/self-assessment"): "student",
    ("POST", "/self-assessment"): "student",
    ("GET", "/students/{student_id}/competencies"): "teacher_of_student",
    ("GET", "/students/{student_id}/competencies/{competency_id}"): "teacher_of_student",
    ("POST", "/students/{student_id}/competencies/{competency_id}/ratings"): "teacher_of_student",
    ("GET", "/students/{student_id}"): "teacher_of_student",
    # frameworks (the school's admin)
    ("GET", "/admin/frameworks"): "admin",
    ("POST", "/admin/frameworks"): "admin",
    ("POST", "/admin/frameworks/bc"): "admin",
    ("GET", "/admin/frameworks/import"): "admin",
    ("POST", "/admin/frameworks/import"): "admin",
    ("POST", "/admin/frameworks/import/confirm"): "admin",
    ("GET", "/admin/roster"): "admin",
    ("POST", "/admin/roster"): "admin",
    ("POST", "/admin/roster/confirm"): "admin",
    ("GET", "/admin/frameworks/{framework_id}/case.json"): "admin_of_school",
    ("GET", "/admin/frameworks/{framework_id}"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}"): "admin_of_school",
    ("GET", "/admin/frameworks/{framework_id}/archive"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/archive"): "admin_of_school",
    ("GET", "/admin/frameworks/{framework_id}/delete"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/delete"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/classes"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/competencies"): "admin_of_school",
    ("GET", "/admin/frameworks/{framework_id}/competencies/{competency_id}"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/competencies/{competency_id}"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/competencies/{competency_id}/move"): "admin_of_school",
    ("GET", "/admin/frameworks/{framework_id}/competencies/{competency_id}/archive"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/competencies/{competency_id}/archive"): "admin_of_school",
    ("GET", "/admin/frameworks/{framework_id}/competencies/{competency_id}/delete"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/competencies/{competency_id}/delete"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/levels"): "admin_of_school",
    ("GET", "/admin/frameworks/{framework_id}/levels/{level_id}"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/levels/{level_id}"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/levels/{level_id}/move"): "admin_of_school",
    ("GET", "/admin/frameworks/{framework_id}/levels/{level_id}/delete"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/levels/{level_id}/delete"): "admin_of_school",
    ("GET", "/admin/frameworks/{framework_id}/translations/{locale}"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/translations/{locale}/competencies/{competency_id}"): "admin_of_school",
    ("POST", "/admin/frameworks/{framework_id}/translations/{locale}/levels/{level_id}"): "admin_of_school",
    # classes
    ("GET", "/classes/new"): "staff",
    ("POST", "/classes/new"): "staff",
    ("GET", "/classes/join"): "student",
    ("POST", "/classes/join"): "student",
    ("GET", "/classes/{class_id}"): "staff_of_class",
    ("GET", "/classes/{class_id}/students/new"): "staff_of_class",
    ("POST", "/classes/{class_id}/students"): "staff_of_class",
    ("POST", "/classes/{class_id}/students/bulk"): "staff_of_class",
    ("POST", "/classes/{class_id}/cards"): "staff_of_class",
    ("GET", "/classes/{class_id}/students/{student_id}/remove"): "staff_of_class",
    ("POST", "/classes/{class_id}/students/{student_id}/remove"): "staff_of_class",
    ("GET", "/classes/{class_id}/settings"): "staff_of_class",
    ("POST", "/classes/{class_id}/settings"): "staff_of_class",
    ("GET", "/classes/{class_id}/prompts"): "staff_of_class",
    ("POST", "/classes/{class_id}/prompts"): "staff_of_class",
    ("GET", "/classes/{class_id}/overview"): "staff_of_class",
    ("GET", "/classes/{class_id}/grid"): "staff_of_class",
    # feedback
    ("GET", "/feedback/thread"): "item_read",
    ("POST", "/feedback/comments"): "item_read",
    ("POST", "/feedback/comments/{comment_id}/report"): "item_read",
    ("POST", "/feedback/comments/{comment_id}/review"): "teacher_of_student",
    ("POST", "/feedback/comments/{comment_id}/next-step"): "owner_as_student",
    ("GET", "/feedback/requests/new"): "owner_as_student",
    ("POST", "/feedback/requests"): "owner_as_student",
    ("POST", "/feedback/requests/{request_id}/withdraw"): "owner_as_student",
    ("GET", "/inbox"): "teacher",
    ("POST", "/inbox/approve"): "teacher_bulk",
    ("POST", "/approvals/approve"): "teacher_bulk",
    ("POST", "/approvals/{approval_id}/approve"): "teacher_of_student",
    ("POST", "/approvals/{approval_id}/return"): "teacher_of_student",
    # families
    ("GET", "/students/{student_id}/family"): "staff_of_student",
    ("POST", "/students/{student_id}/invitations"): "staff_of_student",
    ("POST", "/students/{student_id}/invitations/{invitation_id}/revoke"): "staff_of_student",
    ("POST", "/students/{student_id}/guardians/{guardian_id}/remove"): "admin_of_student",
    ("GET", "/family/children/{student_id}"): "guardian_of_student",
    ("GET", "/my-family"): "student",
    ("GET", "/my-family/{guardian_id}/remove"): "owner_as_student",
    ("POST", "/my-family/{guardian_id}/remove"): "owner_as_student",
    ("GET", "/family/digest"): "guardian",
    ("GET", "/family/digest/email"): "guardian",
    ("GET", "/digest/settings/{token}"): "unknown_link",
    ("POST", "/digest/settings/{token}"): "unknown_link",
    ("POST", "/items/{item_id}/reactions"): "family_react",
    # showcases
    ("GET", "/showcases"): "student",
    ("GET", "/showcases/new"): "student",
    ("POST", "/showcases/new"): "student",
    ("GET", "/showcases/{showcase_id:int}"): "item_read",
    ("GET", "/showcases/{showcase_id:int}/edit"): "owner",
    ("POST", "/showcases/{showcase_id:int}/edit"): "owner",
    ("GET", "/showcases/{showcase_id:int}/delete"): "owner",
    ("POST", "/showcases/{showcase_id:int}/delete"): "owner",
    ("GET", "/showcases/{showcase_id:int}/items/new"): "owner",
    ("POST", "/showcases/{showcase_id:int}/items"): "owner",
    ("POST", "/showcases/{showcase_id:int}/items/{entry_id:int}/remove"): "owner",
    ("POST", "/showcases/{showcase_id:int}/items/{entry_id:int}/points"): "owner",
    ("POST", "/showcases/{showcase_id:int}/items/{entry_id:int}/move"): "owner",
    ("POST", "/showcases/{showcase_id:int}/items/order"): "owner",
    ("POST", "/showcases/{showcase_id:int}/links"): "owner",
    ("POST", "/showcases/{showcase_id:int}/links/{link_id:int}/revoke"): "owner",
    ("GET", "/s/{token}"): "public",
    ("GET", "/s/{token}/files/{artefact_id}/{variant}"): "public",
    ("GET", "/showcases/{showcase_id:int}/present"): "owner",
    ("POST", "/showcases/{showcase_id:int}/responses"): "owner",
    ("GET", "/showcases/{showcase_id:int}/respond"): "family_respond",
    ("POST", "/showcases/{showcase_id:int}/respond"): "family_respond",
    ("GET", "/showcases/{showcase_id:int}/responses"): "showcase_responses",
    # conferences
    ("GET", "/classes/{class_id:int}/conferences"): "teacher_of_class",
    ("GET", "/classes/{class_id:int}/conferences/new"): "teacher_of_class",
    ("POST", "/classes/{class_id:int}/conferences/new"): "teacher_of_class",
    ("GET", "/conferences/{slot_id:int}/edit"): "teacher_of_class",
    ("POST", "/conferences/{slot_id:int}/edit"): "teacher_of_class",
    ("GET", "/conferences/{slot_id:int}/cancel"): "teacher_of_class",
    ("POST", "/conferences/{slot_id:int}/cancel"): "teacher_of_class",
    # exports, jobs and imports
    ("GET", "/exports"): "student",
    ("POST", "/exports/pdf"): "student",
    ("POST", "/exports/showcases/{showcase_id:int}"): "owner_as_student",
    ("POST", "/exports/archive"): "student",
    ("GET", "/classes/{class_id:int}/export"): "teacher_of_class_as_teacher",
    ("POST", "/classes/{class_id:int}/export"): "teacher_of_class_as_teacher",
    ("GET", "/jobs/{job_id:int}"): "owner",
    ("POST", "/jobs/{job_id:int}/retry"): "owner",
    ("GET", "/jobs/{job_id:int}/download"): "owner",
    ("GET", "/import"): "student",
    ("POST", "/import"): "student",
    ("GET", "/people/{user_id}/import"): "admin_of_student",
    ("POST", "/people/{user_id}/import"): "admin_of_student",
}


# --- what each request sends -------------------------------------------------------------------
# "{name}" in a path, query or form is filled from CASE_PARAMS, STATE_PARAMS or World.constants. A form is the
# smallest that means something: whoever may not act must change nothing; for those who may, a refused form (422)
# is fine. "kinds" narrows the kinds of item a route is asked about.

REQUESTS: dict[tuple[str, str], dict] = {
    ("POST", "/credentials/{public_id}/revoke"): {"data": {"reason": "Asked by the matrix"}},
    ("POST", "/credentials/award/goals/{goal_id}"): {"path": "/credentials/award/goals/{achieved_goal_id}"},
    ("POST", "/badges/verify"): {"data": {"text": ""}},
    ("GET", "/static"): {"path": "/static/css/app.css"},
    ("POST", "/language"): {"data": {"locale": "en", "next": "/"}},
    ("POST", "/invite"): {"data": {"code": "", "action": "create"}},
    ("POST", "/account/language"): {"data": {"locale": "en"}},
    ("POST", "/account/about"): {"data": {"about": "I like bridges."}},
    ("POST", "/account/tokens"): {"data": {"token_name": "Matrix", "token_scopes": "read", "token_expiry": "30"}},
    ("GET", "/api/v1"): {"path": "/api/v1/me"},
    ("POST", "/people/{user_id}/password"): {"data": {"new_password": ""}},
    ("POST", "/admin/people/new"): {"data": {"display_name": "", "username": "", "role": "teacher"}},
    ("POST", "/admin/people/{user_id}"): {"data": {"display_name": "", "username": "", "role": "student"}},
    # switching an account off and on, and a new setup link: Leo, who is in no class (Maya stays signed in)
    ("POST", "/admin/people/{user_id}/deactivate"): {"path": "/admin/people/{spare_id}/deactivate"},
    ("POST", "/admin/people/{user_id}/reactivate"): {"path": "/admin/people/{spare_id}/reactivate"},
    ("POST", "/admin/people/{user_id}/setup-link"): {"path": "/admin/people/{spare_id}/setup-link"},
    # Maya's account is on, so deleting it is refused (409) whoever asks
    ("POST", "/admin/people/{user_id}/delete"): {"data": {"confirm_username": ""}},
    ("POST", "/admin/terms"): {"data": {"school_year": ""}},
    ("POST", "/admin/classes/{class_id}/teachers"): {"data": {"teacher_id": "{teacher_id}"}},
    ("POST", "/admin/terms/{term_id}/rollover"): {"data": {"target_term_id": ""}},
    ("GET", "/setup/{token}"): {"path": "/setup/not-a-real-link"},
    ("POST", "/setup/{token}"): {"path": "/setup/not-a-real-link", "data": {"password": "long enough pw"}},
    ("GET", "/digest/settings/{token}"): {"path": "/digest/settings/not-a-real-link"},
    ("POST", "/digest/settings/{token}"): {"path": "/digest/settings/not-a-real-link", "data": {"frequency": "off"}},
    ("POST", "/artefacts/upload"): {"multipart": {"title": "Matrix upload"}},
    ("GET", "/artefacts/{artefact_id}/edit"): {"kinds": ("note", "recording")},
    ("POST", "/artefacts/{artefact_id}/edit"): {"data": {"title": ""}, "kinds": ("note", "recording")},
    ("GET", "/artefacts/{artefact_id}/delete"): {"kinds": ("note", "recording")},
    ("POST", "/artefacts/{artefact_id}/delete"): {"kinds": ("note", "recording")},
    ("GET", "/files/{artefact_id}/{variant}"): {"kinds": ("file", "recording", "feedback_audio")},
    ("POST", "/goals/{goal_id:int}/steps"): {"data": {"text": ""}},
    ("POST", "/goals/{goal_id:int}/steps/{step_id:int}/toggle"): {"data": {"done": "true"}},
    ("POST", "/goals/{goal_id:int}/steps/{step_id:int}/rename"): {"data": {"text": ""}},
    ("POST", "/goals/{goal_id:int}/steps/{step_id:int}/move"): {"data": {"direction": "up"}},
    ("POST", "/goals/{goal_id:int}/status"): {"data": {"action": ""}},
    ("POST", "/students/{student_id}/competencies/{competency_id}/ratings"): {"data": {"level_id": ""}},
    ("POST", "/admin/frameworks/{framework_id}/archive"): {"data": {"archived": "false"}},
    ("POST", "/admin/frameworks/{framework_id}/classes"): {"data": {"class_ids": ["{class_id}", "{other_class_id}"]}},
    ("POST", "/admin/frameworks/{framework_id}/competencies/{competency_id}/move"): {"data": {"direction": ""}},
    ("POST", "/admin/frameworks/{framework_id}/competencies/{competency_id}/archive"): {"data": {"archived": "false"}},
    ("POST", "/admin/frameworks/{framework_id}/levels/{level_id}/move"): {"data": {"direction": ""}},
    ("POST", "/classes/join"): {"data": {"code": ""}},
    # the class's settings as they are: a teacher saving them changes nothing the matrix depends on
    ("POST", "/classes/{class_id}/settings"): {"data": {
        "framework_ids": ["{framework_id}"], "classmates_see_class_items": "true",
        "peer_comments_need_approval": "true", "family_items_need_approval": "true", "secret_links_allowed": "true"}},
    ("GET", "/feedback/thread"): {"params": {"item_type": "{item_type}", "item_id": "{item_id}"}},
    ("POST", "/feedback/comments"): {"params": {"item_type": "{item_type}", "item_id": "{item_id}"},
                                     "data": {"body": "Matrix comment", "noticed": "Matrix noticed"}},
    ("POST", "/feedback/comments/{comment_id}/review"): {"data": {"action": "remove"}},
    ("POST", "/feedback/comments/{comment_id}/next-step"): {"data": {"goal": ""}},
    ("GET", "/feedback/requests/new"): {"params": {"item_type": "{item_type}", "item_id": "{item_id}"}},
    ("POST", "/feedback/requests"): {"data": {"item_type": "{item_type}", "item_id": "{item_id}",
                                              "question": "Matrix question?", "recipient_ids": ["{teacher_id}"]}},
    ("POST", "/inbox/approve"): {"data": {"comment_ids": "{pending_comment_ids}"}},
    ("POST", "/approvals/approve"): {"data": {"approval_ids": "{pending_approval_ids}"}},
    ("POST", "/approvals/{approval_id}/return"): {"data": {"note": ""}},
    ("POST", "/items/{item_id}/reactions"): {"data": {"kind": "heart"}},
    ("POST", "/showcases/{showcase_id:int}/items"): {"data": {"item_type": "artefact", "item_id": ""}},
    ("POST", "/showcases/{showcase_id:int}/items/{entry_id:int}/points"): {"data": {"talking_points": "Matrix"}},
    ("POST", "/showcases/{showcase_id:int}/items/{entry_id:int}/move"): {"data": {"direction": "down"}},
    ("GET", "/s/{token}/files/{artefact_id}/{variant}"): {"kinds": ("file", "recording")},
}

# Requests that undo what later requests need: their allowed viewers go last, in this order; `restore` puts the
# world back for the next viewer. Refused viewers are asked with everyone else, before any of these.
TAIL: list[tuple[str, str]] = [
    ("POST", "/feedback/comments/{comment_id}/report"),
    ("POST", "/approvals/approve"),
    ("POST", "/approvals/{approval_id}/approve"),
    ("POST", "/showcases/{showcase_id:int}/items/{entry_id:int}/remove"),
    ("POST", "/showcases/{showcase_id:int}/links/{link_id:int}/revoke"),
    ("POST", "/goals/{goal_id:int}/steps/{step_id:int}/delete"),
    ("POST", "/artefacts/{artefact_id}/delete"),
    ("POST", "/reflections/{reflection_id}/delete"),
    ("POST", "/goals/{goal_id:int}/delete"),
    ("POST", "/showcases/{showcase_id:int}/delete"),
    ("POST", "/conferences/{slot_id:int}/cancel"),
    ("POST", "/my-family/{guardian_id}/remove"),
    ("POST", "/students/{student_id}/guardians/{guardian_id}/remove"),
    ("POST", "/admin/frameworks/{framework_id}/competencies/{competency_id}/delete"),
    ("POST", "/admin/frameworks/{framework_id}/levels/{level_id}/delete"),
    ("POST", "/admin/frameworks/{framework_id}/delete"),
    ("POST", "/classes/{class_id}/students/{student_id}/remove"),
    ("POST", "/logout"),
]


# --- the world ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """Words Maya's portfolio puts on pages, and who may read them there: the audience rules for an item's own
    words (its title, a comment on it), or only named viewers (a comment waiting for approval, a question)."""

    words: str
    state: str
    readers: frozenset[str] | None = None  # None: whoever sees items in this state

    def readable_by(self, viewer: str) -> bool:
        return viewer in self.readers if self.readers is not None else sees_item(viewer, Case(self.state))


@dataclass
class World:
    app: object
    settings: object
    clients: dict[str, TestClient]
    users: dict[str, User]
    constants: dict[str, object] = field(default_factory=dict)
    items: dict[tuple[str, str], int] = field(default_factory=dict)  # (state, kind) -> id
    comments: dict[tuple[str, str], int] = field(default_factory=dict)  # the teacher's comment with a next step
    requests: dict[tuple[str, str], int] = field(default_factory=dict)
    approvals: dict[tuple[str, str], int] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)  # state -> a step of that state's goal
    entries: dict[str, int] = field(default_factory=dict)  # state -> an entry of that state's showcase
    links: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    texts: list[Text] = field(default_factory=list)
    in_showcase: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # state -> (state, kind) of its items

    def session(self) -> Session:
        return Session(self.app.state.engine, expire_on_commit=False)

    def words(self, state: str, what: str, readers: tuple[str, ...] | None = None) -> str:
        """Distinct words for one thing of Maya's, remembered with who may read them."""
        text = Text(f"Mx {state} {what}", state, frozenset(readers) if readers is not None else None)
        self.texts.append(text)
        return text.words


def _id_from(response, pattern: str) -> int:
    assert response.status_code == 303, response.text[:2000]
    match = re.search(pattern, response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def _build_world(app, settings) -> World:
    """The school, its people and Maya's portfolio, made through the app's own forms where there is one."""
    with Session(app.state.engine, expire_on_commit=False) as db:
        school, elsewhere = make_school(db, "Matrix School"), make_school(db, "Another School")
        users = {
            "owner": make_user(db, school, display_name="Maya"),
            "classmate": make_user(db, school),
            "teacher": make_user(db, school, Role.teacher),
            "other_student": make_user(db, school),
            "other_teacher": make_user(db, school, Role.teacher),
            "guardian": make_user(db, school, Role.guardian),
            "other_guardian": make_user(db, school, Role.guardian),
            "admin": make_user(db, school, Role.admin),
            "foreign_admin": make_user(db, elsewhere, Role.admin),
        }
        class_a = make_class(db, school, teachers=[users["teacher"]], students=[users["owner"], users["classmate"]])
        spare = make_user(db, school, display_name="Leo")
        term = SchoolTerm(school_id=school.id, name="2026–27", school_year="2026–27")
        db.add(term)
        db.flush()
        class_a.term_id = term.id
        db.add(class_a)
        db.commit()
        class_b = make_class(db, school, teachers=[users["other_teacher"]], students=[users["other_student"]])
        framework = make_framework(db, school, classes=[class_a, class_b])
        link_guardian(db, users["guardian"], users["owner"])
        link_guardian(db, users["other_guardian"], users["other_student"])
        competency = next(c for c in framework.competencies if c.code == "COM.1")
        level = db.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id)).first()

    clients: dict[str, TestClient] = {}
    for name in VIEWERS:
        clients[name] = TestClient(app, base_url="http://testserver", follow_redirects=False)
        if name != "anon":
            login(clients[name], users[name])
    world = World(app, settings, clients, users)
    maya, teacher = clients["owner"], clients["teacher"]
    world.constants = {
        "student_id": users["owner"].id, "user_id": users["owner"].id, "guardian_id": users["guardian"].id,
        "teacher_id": users["teacher"].id, "class_id": class_a.id, "other_class_id": class_b.id,
        "framework_id": framework.id, "competency_id": competency.id, "level_id": level.id, "variant": "original",
        "spare_id": spare.id, "term_id": term.id, "locale": "es",
    }

    # Class A: classmates see class items; family items and peer and family comments wait for the teacher.
    response = teacher.post(f"/classes/{class_a.id}/settings", data=REQUESTS[("POST", "/classes/{class_id}/settings")]
                            ["data"] | {"framework_ids": [str(framework.id)]})
    assert response.status_code == 303, response.text

    # Maya's portfolio, one of everything in each state. The draft is first published, so it can join a showcase,
    # then taken back to a draft (it must then vanish from the showcase too).
    wav = wav_bytes()
    for state in STATES:
        audience = AUDIENCE[state]
        if state != "draft":
            world.items[(state, "note")] = _id_from(maya.post("/artefacts/note", data={
                "title": world.words(state, "note"), "body": "Some words", "audience": audience}), r"artefact=(\d+)$")
            world.items[(state, "link")] = _id_from(maya.post("/artefacts/link", data={
                "title": world.words(state, "link"), "url": "https://example.org/work", "audience": audience}),
                r"artefact=(\d+)$")
            response = post_multipart(maya, "/artefacts/upload",
                                      {"title": world.words(state, "file"), "audience": audience},
                                      files={"files": ("photo.png", png(), "image/png"),
                                             "caption_audio": ("caption.wav", wav, "audio/wav")})
            assert response.status_code == 303, response.text
            world.items[(state, "goal")] = _id_from(maya.post("/goals/new", data={
                "title": world.words(state, "goal"), "audience": audience, "steps": ["First step", "Second step"]}),
                r"/goals/(\d+)$")
            response = maya.post(f"/goals/{world.items[(state, 'goal')]}/checkins",
                                 data={"note": world.words(state, "check-in")})
            assert response.status_code == 303
        world.items[(state, "reflection")] = _id_from(post_multipart(maya, "/reflections", {
            "title": world.words(state, "reflection"), "body": "I learned", "audience": audience, "action": "publish"},
            files={"audio": ("voice.wav", wav, "audio/wav")}), r"/reflections/(\d+)$")
    with world.session() as db:
        for state in STATES:
            if state != "draft":
                world.items[(state, "file")] = db.exec(
                    select(Artefact.id).where(Artefact.title == f"Mx {state} file")).one()
                world.steps[state] = db.exec(select(GoalStep.id).where(GoalStep.goal_id == world.items[(state, "goal")])
                                             .order_by(GoalStep.position)).first()
            world.items[(state, "recording")] = db.get(Reflection, world.items[(state, "reflection")]).audio_artefact_id

    # Showcases (no drafts or approvals for them): that state's file and spoken reflection, a secret link and a
    # family's response typed at the conference. The class and family showcases also hold items their audience
    # may not see on their own, which must stay out of sight there.
    world.in_showcase = {"private": [], "class": [("private", "note"), ("draft", "reflection")],
                         "family": [("private", "note"), ("pending", "note")]}
    for state in ("private", "class", "family"):
        showcase_id = _id_from(maya.post("/showcases/new", data={
            "title": world.words(state, "showcase"), "audience": state,
            "introduction": world.words(state, "introduction")}),
            r"/showcases/(\d+)/items/new")
        world.items[(state, "showcase")] = showcase_id
        world.in_showcase[state] = [(state, "file"), (state, "reflection"), *world.in_showcase[state]]
        for item_state, kind in world.in_showcase[state]:
            response = maya.post(f"/showcases/{showcase_id}/items", data={
                "item_type": ITEM_TYPE.get(kind, "artefact"), "item_id": str(world.items[(item_state, kind)])})
            assert response.status_code == 303, response.text
        response = maya.post(f"/showcases/{showcase_id}/links",
                             data={"expires_on": (date.today() + timedelta(days=7)).isoformat()})
        assert response.status_code == 200, response.text
        world.tokens[state] = re.search(r'value="http://testserver/s/([A-Za-z0-9_-]+)"', response.text).group(1)
        response = maya.post(f"/showcases/{showcase_id}/responses", data={
            "author_name": "Grandma", "proud": world.words(state, "response", ("owner", "teacher", "guardian")
                                                           if state == "family" else ("owner", "teacher"))})
        assert response.status_code == 303
        with world.session() as db:
            world.entries[state] = db.exec(select(ShowcaseItem.id).where(ShowcaseItem.showcase_id == showcase_id)
                                           .order_by(ShowcaseItem.position)).first()
            world.links[state] = db.exec(select(ShareLink.id).where(ShareLink.showcase_id == showcase_id)).one()
    response = post_multipart(maya, f"/reflections/{world.items[('draft', 'reflection')]}/edit", {
        "title": "Mx draft reflection", "body": "I learned", "audience": AUDIENCE["draft"], "action": "draft",
        "version": "1"})
    assert response.status_code == 303, response.text

    # The teacher's feedback on everything but the draft: a comment with a next step, and spoken feedback on notes.
    for state in ("private", "class", "family", "pending"):
        for kind in THREAD_KINDS:
            url = f"/feedback/comments?item_type={ITEM_TYPE[kind]}&item_id={world.items[(state, kind)]}"
            world.comments[(state, kind)] = _id_from(teacher.post(url, data={
                "body": world.words(state, f"{kind} comment"), "next_step": "Add a diagram"}), r"#comment-(\d+)$")
        url = f"/feedback/comments?item_type=artefact&item_id={world.items[(state, 'note')]}"
        comment_id = _id_from(post_multipart(teacher, url, {"body": ""}, files={"audio": ("fb.wav", wav, "audio/wav")}),
                              r"#comment-(\d+)$")
        with world.session() as db:
            world.items[(state, "feedback_audio")] = db.get(Comment, comment_id).audio_artefact_id

    # The teacher approves every family item but the pending ones.
    with world.session() as db:
        for approval in db.exec(select(ItemApproval).where(ItemApproval.status == ApprovalStatus.pending)).all():
            if approval.showcase_id is not None:  # a family showcase waits too, where the class asks for approval
                state, kind = next(key for key, showcase_id in world.items.items()
                                   if showcase_id == approval.showcase_id and key[1] == "showcase")
            else:  # item ids are unique across kinds of item
                state, kind = next(key for key, item_id in world.items.items()
                                   if item_id == approval.item_id and key[1] != "showcase")
            if state != "pending":
                assert teacher.post(f"/approvals/{approval.id}/approve").status_code == 303
            if kind in THREAD_KINDS:
                world.approvals[(state, kind)] = approval.id

    # Comments waiting for the teacher: a classmate's on a class note, the guardian's on a family note.
    for viewer, state, field_name in (("classmate", "class", "noticed"), ("guardian", "family", "body")):
        url = f"/feedback/comments?item_type=artefact&item_id={world.items[(state, 'note')]}"
        words = world.words(state, f"held {viewer} comment", (viewer, "teacher"))
        assert clients[viewer].post(url, data={field_name: words}).status_code == 303

    # Maya asks her teacher about each item; an invitation for her family; a conference; an export, run.
    for state in ("private", "class", "family", "pending"):
        for kind in THREAD_KINDS:
            response = maya.post("/feedback/requests", data={
                "item_type": ITEM_TYPE[kind], "item_id": str(world.items[(state, kind)]),
                "question": world.words(state, f"{kind} question", ("owner", "teacher")),
                "recipient_ids": [str(users["teacher"].id)]})
            assert response.status_code == 303, response.text
    assert teacher.post(f"/students/{users['owner'].id}/invitations").status_code == 200
    response = teacher.post(f"/classes/{class_a.id}/conferences/new", data={
        "student_id": str(users["owner"].id), "date": (date.today() + timedelta(days=30)).isoformat(), "time": "18:00",
        "duration": "20", "location": "Room 12", "note": "", "guardian_ids": [str(users["guardian"].id)],
        "guardians_for": str(users["owner"].id)})
    assert response.status_code == 303, response.text
    assert maya.post("/account/tokens", data={"token_name": "Maya's script", "token_scopes": "read write",
                                              "token_expiry": "90"}).status_code == 200
    job_id = _id_from(maya.post(f"/exports/showcases/{world.items[('private', 'showcase')]}"), r"/jobs/(\d+)$")
    # An Open Badges credential for a teacher rating; an achieved goal to award one for.
    response = teacher.post(f"/students/{users['owner'].id}/competencies/{competency.id}/ratings", data={
        "level_id": str(level.id), "comment": "Clear.", "award_credential": "true"})
    assert response.status_code == 303, response.text
    with world.session() as db:
        achieved = Goal(owner_id=users["owner"].id, title="Read ten novels", status=GoalStatus.achieved)
        db.add(achieved)
        db.commit()
        world.constants["achieved_goal_id"] = achieved.id
    job_runs.run_pending(engine=app.state.engine, settings=settings)

    with world.session() as db:
        for (state, kind), item_id in list(world.items.items()):
            if kind in THREAD_KINDS and state != "draft":
                world.requests[(state, kind)] = db.exec(select(FeedbackRequest.id).where(
                    FeedbackRequest.item_id == item_id)).one()
        assert db.get(Job, job_id).status.value == "done"
        world.constants.update({
            "job_id": job_id,
            "public_id": db.exec(select(Credential.public_id)).one(),
            "rating_id": db.exec(select(Credential.rating_id)).one(),
            "school_id": users["owner"].school_id, "list_number": 0,
            "token_id": db.exec(select(ApiToken.id).where(ApiToken.user_id == users["owner"].id)).one(),
            "invitation_id": db.exec(select(FamilyInvitation.id)).one(),
            "slot_id": db.exec(select(ConferenceSlot.id)).one(),
            "notification_id": db.exec(
                select(Notification.id).where(Notification.user_id == users["owner"].id)).first(),
            "pending_comment_ids": [str(i) for i in db.exec(select(Comment.id).where(
                Comment.status == CommentStatus.pending)).all()],
            "pending_approval_ids": [str(i) for i in db.exec(select(ItemApproval.id).where(
                ItemApproval.status == ApprovalStatus.pending)).all()],
        })
        assert len(world.constants["pending_comment_ids"]) == 2 and world.constants["pending_approval_ids"]
    return world


@pytest.fixture(scope="module")
def world(module_database_url, tmp_path_factory) -> Iterator[World]:
    with fast_hashing(), ExitStack() as stack:
        settings = make_settings(tmp_path_factory.mktemp("matrix"), module_database_url)
        app = create_app(settings)
        stack.callback(app.state.engine.dispose)
        built = _build_world(app, settings)
        for client in built.clients.values():
            stack.callback(client.close)
        yield built


# --- what a page may show ------------------------------------------------------------------------

SECRET_LINK_ROUTES = {("GET", "/s/{token}"), ("GET", "/s/{token}/files/{artefact_id}/{variant}")}


def unreadable_words(world: World, viewer: str, method: str, path: str, case: Case) -> list[str]:
    """Words of Maya's that must not appear on this page for this viewer.

    A secret link shows its showcase (title, introduction) and what is in it, drafts aside, to anyone; every
    other page shows each viewer only what the audience rules let them see."""
    if (method, path) in SECRET_LINK_ROUTES:
        shown = {f"Mx {case.state} showcase", f"Mx {case.state} introduction"} | {
            f"Mx {state} {kind}" for state, kind in world.in_showcase[case.state] if state != "draft"}
        return [t.words for t in world.texts if t.words not in shown]
    return [t.words for t in world.texts if not t.readable_by(viewer)]


# --- filling in requests -----------------------------------------------------------------------

def _in_state(table: str, kinds: tuple[str, ...]):
    return kinds, lambda world, case: getattr(world, table).get((case.state, case.kind))


# Parameters that depend on the case: the kinds they exist for, and how to find them.
CASE_PARAMS: dict[str, tuple[tuple[str, ...], Callable[[World, Case], object]]] = {
    "artefact_id": _in_state("items", ARTEFACT_KINDS),
    "reflection_id": _in_state("items", ("reflection",)),
    "goal_id": _in_state("items", ("goal",)),
    "showcase_id": _in_state("items", ("showcase",)),
    "item_id": _in_state("items", THREAD_KINDS),
    "item_type": (THREAD_KINDS,
                  lambda world, case: ITEM_TYPE[case.kind] if (case.state, case.kind) in world.items else None),
    "comment_id": _in_state("comments", THREAD_KINDS),
    "request_id": _in_state("requests", THREAD_KINDS),
    "approval_id": _in_state("approvals", THREAD_KINDS),
}
# Parameters that depend on the state only (they belong to that state's goal or showcase).
STATE_PARAMS: dict[str, Callable[[World, Case], object]] = {
    "step_id": lambda world, case: world.steps.get(case.state),
    "entry_id": lambda world, case: world.entries.get(case.state),
    "link_id": lambda world, case: world.links.get(case.state),
    "token": lambda world, case: world.tokens.get(case.state),
}
PLACEHOLDER = re.compile(r"{(\w+)(?::\w+)?}")


def _template_names(method: str, path: str) -> set[str]:
    spec = REQUESTS.get((method, path), {})
    text = repr([spec.get("path", path), spec.get("params"), spec.get("data"), spec.get("multipart")])
    return set(PLACEHOLDER.findall(text))


def cases_for(world: World, method: str, path: str) -> list[Case]:
    """The cases a route is asked about: one per (state, kind) its parameters exist for."""
    names = _template_names(method, path)
    kinds = REQUESTS.get((method, path), {}).get("kinds")
    case_params = [n for n in names if n in CASE_PARAMS]
    state_params = [n for n in names if n in STATE_PARAMS]
    if case_params:
        common = set.intersection(*(set(CASE_PARAMS[name][0]) for name in case_params))
        candidates = [Case(s, k) for s in STATES for k in common if kinds is None or k in kinds]
    elif state_params:
        candidates = [Case(s) for s in STATES]
    else:
        return [Case()]
    return sorted((c for c in candidates if all(_value(world, n, c) is not None for n in names)),
                  key=lambda c: (STATES.index(c.state), c.kind))


def _value(world: World, name: str, case: Case):
    if name in CASE_PARAMS:
        return CASE_PARAMS[name][1](world, case)
    if name in STATE_PARAMS:
        return STATE_PARAMS[name](world, case)
    return world.constants[name]


def _fill(world: World, value, case: Case):
    if isinstance(value, dict):
        return {k: _fill(world, v, case) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(world, v, case) for v in value]
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            found = _value(world, whole.group(1), case)
            return found if isinstance(found, list) else str(found)
        return PLACEHOLDER.sub(lambda m: str(_value(world, m.group(1), case)), value)
    return value


async def send(world: World, clients: dict[str, httpx.AsyncClient], viewer: str, method: str, path: str, case: Case):
    spec = REQUESTS.get((method, path), {})
    kwargs = {}
    if "params" in spec:
        kwargs["params"] = _fill(world, spec["params"], case)
    if "data" in spec:
        kwargs["data"] = _fill(world, spec["data"], case)
    if "multipart" in spec:
        # as a browser sends a form with enctype=multipart/form-data and an empty file input
        fields = _fill(world, spec["multipart"], case)
        empty_file = ("files", ("", b"", "application/octet-stream"))
        kwargs["files"] = [(name, (None, value)) for name, value in fields.items()] + [empty_file]
    return await clients[viewer].request(method, _fill(world, spec.get("path", path), case), **kwargs)


def outcome(method: str, response) -> str:
    """What a response amounts to for the matrix."""
    location = response.headers.get("location", "")
    if response.status_code == 401 or (response.is_redirect and location.startswith("/login")):
        return LOGIN
    if response.status_code == 404:
        return HIDDEN
    if response.status_code == 403:
        return FORBIDDEN
    if response.status_code < 400 or (method != "GET" and response.status_code in (400, 409, 413, 422)):
        return ALLOWED
    return f"status {response.status_code}"


# --- "nothing changed" ---------------------------------------------------------------------------

VOLATILE_TABLES = {"user_sessions", "login_failures"}  # touched by signing in and by every request's session


def snapshot(world: World) -> dict:
    """Every row of every table (but sessions and sign-in failures), and the files kept in the upload folder."""
    state = {}
    with world.app.state.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if table.name not in VOLATILE_TABLES:
                rows = connection.execute(sa.select(table)).all()
                state[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    upload_dir = Path(world.settings.upload_dir)
    state["files"] = sorted(str(p.relative_to(upload_dir)) for p in upload_dir.rglob("*") if p.is_file())
    return state


def changes(before: dict, after: dict) -> list[str]:
    """What differs between two snapshots, a few rows per table."""
    return [f"{name}: {sorted(set(after[name]) - set(before[name]))[:3]} added, "
            f"{sorted(set(before[name]) - set(after[name]))[:3]} gone"
            for name in before if before[name] != after[name]]


# --- the tests ---------------------------------------------------------------------------------


def _app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for context in iter_route_contexts(app.routes):
        for method in context.methods or {"GET"}:  # a mount (the static files) answers GET
            if method != "HEAD":
                found.add((method, context.path))
    return found


def test_every_route_has_exactly_one_access_rule(tmp_path):
    routes = _app_routes(create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}")))
    missing = sorted(routes - set(RULES))
    assert not missing, f"routes nobody decided access for (add them to RULES): {missing}"
    stale = sorted(set(RULES) - routes)
    assert not stale, f"RULES names routes that no longer exist: {stale}"
    assert set(RULES.values()) <= set(RULE_KINDS), set(RULES.values()) - set(RULE_KINDS)
    assert set(REQUESTS) <= set(RULES) and set(TAIL) <= set(RULES)


# Holes the matrix finds that are not fixed yet, each with why. The test fails when one of them stops happening
# (then take it out of this list), as it does for any other wrong answer.
KNOWN_HOLES: dict[str, str] = {}


def test_the_access_matrix(world):
    started, cpu_started = time.perf_counter(), time.process_time()
    failures, asked = asyncio.run(_run_matrix(world))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"\naccess matrix: {asked} requests in {elapsed:.1f} s ({cpu:.1f} s CPU)")
    unexpected = [failure for failure in failures if failure not in KNOWN_HOLES]
    assert not unexpected, f"{len(unexpected)} of {asked} requests were answered wrongly:\n" + "\n".join(unexpected)
    fixed = sorted(set(KNOWN_HOLES) - set(failures))
    assert not fixed, f"no longer happening, take them out of KNOWN_HOLES: {fixed}"


async def _run_matrix(world: World) -> tuple[list[str], int]:
    """Ask every route about every case as every viewer; what went wrong, and how many requests that took."""
    transport = httpx.ASGITransport(app=world.app)
    clients = {viewer: httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=client.cookies)
               for viewer, client in world.clients.items()}
    failures: list[str] = []
    asked = 0

    async def ask(viewer: str, method: str, path: str, case: Case, expected: str) -> None:
        nonlocal asked
        asked += 1
        response = await send(world, clients, viewer, method, path, case)
        got = outcome(method, response)
        if got != (ALLOWED if expected == NOOP else expected):
            failures.append(f"{method} {path}{case} as {viewer}: got {got} ({response.status_code}), "
                            f"expected {expected}")
        elif got == ALLOWED and method == "GET" and response.headers.get("content-type", "").startswith("text/html"):
            unreadable = unreadable_words(world, viewer, method, path, case)
            if shown := [words for words in unreadable if words in response.text]:
                failures.append(f"{method} {path}{case} as {viewer}: the page shows {shown}")

    routes = sorted(RULES, key=lambda r: (r[1], r[0]))
    cases = {route: cases_for(world, *route) for route in routes}
    no_cases = [f"{m} {p}" for (m, p), found in cases.items() if not found]
    assert not no_cases, f"routes the world has nothing to ask about: {no_cases}"
    last = TAIL[-1]  # signing out, once everything else is done

    # 1. Everyone who may not use a route, before anything changes; a refused POST must change nothing.
    # A visitor, or a signed-in user of another role, is turned away by the route's guard before it looks at any
    # item, so they are asked about the route's first (most private) case only; everyone else about every case.
    before = snapshot(world)
    for method, path in routes:
        rule = RULE_KINDS[RULES[(method, path)]]
        if (method, path) == last:
            continue
        refused = set()
        for number, case in enumerate(cases[(method, path)]):
            for viewer in VIEWERS:
                expected = rule.expect(viewer, case)
                if expected != ALLOWED and (number == 0 or expected not in (LOGIN, FORBIDDEN)):
                    await ask(viewer, method, path, case, expected)
                    refused.add(viewer)
        if method != "GET" and refused:
            after = snapshot(world)
            if changed := changes(before, after):
                failures.append(f"{method} {path} asked by {sorted(refused)} changed: {changed}")
            before = after

    # 2. Everyone who may: reading first, then the rest, then what undoes things, in order.
    tail = {route: position for position, route in enumerate(TAIL)}
    for method, path in sorted(routes, key=lambda r: (r[0] != "GET", tail.get(r, -1))):
        rule = RULE_KINDS[RULES[(method, path)]]
        for case in cases[(method, path)]:
            for viewer in VIEWERS:
                if (method, path) == last or rule.expect(viewer, case) == ALLOWED:
                    await ask(viewer, method, path, case, rule.expect(viewer, case))
                    if restore := RESTORE.get((method, path)):
                        try:
                            await restore(world, clients, case)
                        except AssertionError:  # already reported: something refused earlier went through
                            failures.append(f"{method} {path}{case}: could not put the world back after {viewer}")
    for client in clients.values():
        await client.aclose()
    return failures, asked


# --- putting the world back between viewers --------------------------------------------------------


async def _restore_comment(world: World, clients, case: Case) -> None:
    response = await clients["teacher"].post(f"/feedback/comments/{world.comments[(case.state, case.kind)]}/review",
                                             data={"action": "restore"})
    assert response.status_code == 303


async def _relink_guardian(world: World, _clients, _case: Case) -> None:
    with world.session() as db:
        link_guardian(db, world.users["guardian"], world.users["owner"])


async def _re_enroll(world: World, _clients, _case: Case) -> None:
    with world.session() as db:
        enroll(session=db, school_class=db.get(SchoolClass, world.constants["class_id"]), user=world.users["owner"],
               role=ClassRole.student, via=EnrolledVia.admin)
        db.commit()


async def _switch_leo_on(world: World, _clients, _case: Case) -> None:
    with world.session() as db:
        leo = db.get(User, world.constants["spare_id"])
        leo.is_active, leo.deactivated_at = True, None
        db.add(leo)
        db.commit()


RESTORE: dict[tuple[str, str], Callable[..., Awaitable[None]]] = {
    ("POST", "/admin/people/{user_id}/deactivate"): _switch_leo_on,
    ("POST", "/feedback/comments/{comment_id}/report"): _restore_comment,
    ("POST", "/my-family/{guardian_id}/remove"): _relink_guardian,
    ("POST", "/students/{student_id}/guardians/{guardian_id}/remove"): _relink_guardian,
    ("POST", "/classes/{class_id}/students/{student_id}/remove"): _re_enroll,
}

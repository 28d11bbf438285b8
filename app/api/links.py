"""OpenAPI links between the API's operations: where an id in one answer can be used next (a list to one of its
entries, a created item to reading it). Clients can follow them, and schemathesis's stateful run walks them
(tests/test_api_schema.py).

Each link names its source (path, method, status) and its target (method, path); the target's operationId is looked up
in the document, so a renamed route breaks the document build (tests check it) instead of leaving a dead link."""

from __future__ import annotations

from typing import NamedTuple


class Link(NamedTuple):
    name: str
    source: tuple[str, str, str]  # (path, method, status) of the answer the values come from
    target: tuple[str, str]  # (method, path) of the operation they feed
    parameters: dict[str, str]  # the target's parameter -> a runtime expression on the source's answer
    description: str


LINKS = (
    Link("ReadListedItem", ("/items", "get", "200"), ("get", "/items/{item_id}"),
         {"item_id": "$response.body#/items/0/id"}, "The first item of the page."),
    Link("ReadNewNote", ("/items/notes", "post", "201"), ("get", "/items/{item_id}"),
         {"item_id": "$response.body#/id"}, "The note just added."),
    Link("ReadNewLink", ("/items/links", "post", "201"), ("get", "/items/{item_id}"),
         {"item_id": "$response.body#/id"}, "The link just added."),
    Link("ReadListedGoal", ("/goals", "get", "200"), ("get", "/goals/{goal_id}"),
         {"goal_id": "$response.body#/goals/0/id"}, "The first goal, with its steps."),
    Link("ReadGoalAsItem", ("/goals/{goal_id}", "get", "200"), ("get", "/items/{item_id}"),
         {"item_id": "$response.body#/id"}, "The goal as an item (goals share their id with their item)."),
    Link("ReadNewGoal", ("/goals", "post", "201"), ("get", "/goals/{goal_id}"),
         {"goal_id": "$response.body#/id"}, "The goal just set."),
    Link("EditNewGoal", ("/goals", "post", "201"), ("put", "/goals/{goal_id}"),
         {"goal_id": "$response.body#/id"}, "Edit it (send back its version)."),
    Link("AddStepToNewGoal", ("/goals", "post", "201"), ("post", "/goals/{goal_id}/steps"),
         {"goal_id": "$response.body#/id"}, "Add a step to it."),
    Link("CheckInOnNewGoal", ("/goals", "post", "201"), ("post", "/goals/{goal_id}/checkins"),
         {"goal_id": "$response.body#/id"}, "Check in on it."),
    Link("ChangeNewGoalStatus", ("/goals", "post", "201"), ("post", "/goals/{goal_id}/status"),
         {"goal_id": "$response.body#/id"}, "Pause, drop or achieve it."),
    Link("UpdateFirstStep", ("/goals/{goal_id}/steps", "post", "201"), ("put", "/goals/{goal_id}/steps/{step_id}"),
         {"goal_id": "$response.body#/id", "step_id": "$response.body#/steps/0/id"}, "Rename or tick its first step."),
    Link("DeleteNewGoal", ("/goals", "post", "201"), ("delete", "/goals/{goal_id}"),
         {"goal_id": "$response.body#/id"}, "Delete it."),
    Link("MoveFirstStep", ("/goals/{goal_id}/steps", "post", "201"),
         ("post", "/goals/{goal_id}/steps/{step_id}/move"),
         {"goal_id": "$response.body#/id", "step_id": "$response.body#/steps/0/id"},
         "Move its first step (send the step's version)."),
    Link("ReadMovedGoal", ("/goals/{goal_id}/steps/{step_id}/move", "post", "200"), ("get", "/goals/{goal_id}"),
         {"goal_id": "$response.body#/id"}, "The goal, its steps in their new order."),
    Link("RemoveFirstStep", ("/goals/{goal_id}/steps", "post", "201"), ("delete", "/goals/{goal_id}/steps/{step_id}"),
         {"goal_id": "$response.body#/id", "step_id": "$response.body#/steps/0/id"}, "Remove its first step."),
    Link("ReadEditedGoal", ("/goals/{goal_id}", "put", "200"), ("get", "/goals/{goal_id}"),
         {"goal_id": "$response.body#/id"}, "The goal as saved."),
    Link("ReadCheckedInGoal", ("/goals/{goal_id}/checkins", "post", "201"), ("get", "/goals/{goal_id}"),
         {"goal_id": "$response.body#/goal_id"}, "The goal, its steps ticked."),
    Link("ReadChildFeed", ("/family/children", "get", "200"), ("get", "/family/children/{student_id}/feed"),
         {"student_id": "$response.body#/children/0/id"}, "The first child's family feed."),
    Link("ReadFeedItem", ("/family/children/{student_id}/feed", "get", "200"), ("get", "/items/{item_id}"),
         {"item_id": "$response.body#/items/0/id"}, "The first item of the feed."),
    Link("ReadListedClass", ("/classes", "get", "200"), ("get", "/classes/{class_id}"),
         {"class_id": "$response.body#/classes/0/id"}, "The first class, with its roster."),
    Link("ReadListedOverview", ("/classes", "get", "200"), ("get", "/classes/{class_id}/overview"),
         {"class_id": "$response.body#/classes/0/id"}, "The first class's overview."),
    Link("ReadOverview", ("/classes/{class_id}", "get", "200"), ("get", "/classes/{class_id}/overview"),
         {"class_id": "$response.body#/id"}, "The class's overview."),
    Link("ReadRosterStudentItems", ("/classes/{class_id}", "get", "200"),
         ("get", "/classes/{class_id}/students/{student_id}/items"),
         {"class_id": "$response.body#/id", "student_id": "$response.body#/students/0/id"},
         "The first student's items."),
    Link("ReadOverviewStudentItems", ("/classes/{class_id}/overview", "get", "200"),
         ("get", "/classes/{class_id}/students/{student_id}/items"),
         {"class_id": "$response.body#/id", "student_id": "$response.body#/students/0/id"},
         "The first student's items."),
    Link("RateOverviewStudent", ("/classes/{class_id}/overview", "get", "200"),
         ("post", "/students/{student_id}/competencies/{competency_id}/ratings"),
         {"student_id": "$response.body#/students/0/id", "competency_id": "$response.body#/competencies/0/id"},
         "Rate the first student on the first competency."),
    Link("ReadStudentItem", ("/classes/{class_id}/students/{student_id}/items", "get", "200"),
         ("get", "/items/{item_id}"), {"item_id": "$response.body#/items/0/id"}, "The first item of the page."),
    Link("ReadRequestedItem", ("/inbox", "get", "200"), ("get", "/items/{item_id}"),
         {"item_id": "$response.body#/requests/0/item_id"}, "The item of the oldest feedback request."),
    Link("ReadRequestedThread", ("/inbox", "get", "200"), ("get", "/items/{item_id}/comments"),
         {"item_id": "$response.body#/requests/0/item_id"}, "The comments on the item of the oldest feedback request."),
    Link("ApproveWaiting", ("/inbox", "get", "200"), ("post", "/approvals/{approval_id}/approve"),
         {"approval_id": "$response.body#/approvals/0/id"}, "Approve the oldest item waiting."),
    Link("ReturnWaiting", ("/inbox", "get", "200"), ("post", "/approvals/{approval_id}/return"),
         {"approval_id": "$response.body#/approvals/0/id"}, "Return the oldest item waiting, with a note."),
    Link("ReadNewFile", ("/items/files", "post", "201"), ("get", "/items/{item_id}"),
         {"item_id": "$response.body#/id"}, "The file just added."),
    Link("ReadNewReflection", ("/reflections", "post", "201"), ("get", "/reflections/{reflection_id}"),
         {"reflection_id": "$response.body#/id"}, "The reflection just written."),
    Link("EditNewReflection", ("/reflections", "post", "201"), ("put", "/reflections/{reflection_id}"),
         {"reflection_id": "$response.body#/id"}, "Edit it (send back its version)."),
    Link("ReadEditedReflection", ("/reflections/{reflection_id}", "put", "200"), ("get", "/reflections/{reflection_id}"),
         {"reflection_id": "$response.body#/id"}, "The reflection as saved."),
    Link("SpeakNewReflection", ("/reflections", "post", "201"), ("put", "/reflections/{reflection_id}/recording"),
         {"reflection_id": "$response.body#/id"}, "Give it a spoken recording (send back its version)."),
    Link("ReadSpokenReflection", ("/reflections/{reflection_id}/recording", "put", "200"),
         ("get", "/reflections/{reflection_id}"), {"reflection_id": "$response.body#/id"},
         "The reflection with its recording."),
    Link("TakeRecordingOut", ("/reflections/{reflection_id}/recording", "put", "200"),
         ("delete", "/reflections/{reflection_id}/recording"),
         {"reflection_id": "$response.body#/id", "version": "$response.body#/version"}, "Take the recording out."),
    Link("ReadCommentThread", ("/items/{item_id}/comments", "post", "201"), ("get", "/items/{item_id}/comments"),
         {"item_id": "$response.body#/item_id"}, "The item's thread."),
    Link("ReadAskedThread", ("/items/{item_id}/feedback-requests", "post", "201"),
         ("get", "/items/{item_id}/comments"), {"item_id": "$response.body#/item_id"}, "The item's thread."),
    Link("WithdrawNewRequest", ("/items/{item_id}/feedback-requests", "post", "201"),
         ("post", "/feedback-requests/{request_id}/withdraw"), {"request_id": "$response.body#/id"},
         "Withdraw the request just made."),
    Link("ReadWithdrawnThread", ("/feedback-requests/{request_id}/withdraw", "post", "200"),
         ("get", "/items/{item_id}/comments"), {"item_id": "$response.body#/item_id"},
         "The item's thread, the request no longer open."),
    Link("AskAboutNewNote", ("/items/notes", "post", "201"), ("post", "/items/{item_id}/feedback-requests"),
         {"item_id": "$response.body#/id"}, "Ask for feedback on the note just added."),
    Link("AskAboutListedItem", ("/items", "get", "200"), ("post", "/items/{item_id}/feedback-requests"),
         {"item_id": "$response.body#/items/0/id"}, "Ask for feedback on the first item of the page."),
    Link("ReadListedThread", ("/items", "get", "200"), ("get", "/items/{item_id}/comments"),
         {"item_id": "$response.body#/items/0/id"}, "The first item's comments."),
    Link("ReadListedReflection", ("/reflections", "get", "200"), ("get", "/reflections/{reflection_id}"),
         {"reflection_id": "$response.body#/reflections/0/id"}, "The first reflection of the page."),
    Link("ReadListedCredential", ("/credentials", "get", "200"), ("get", "/credentials/{public_id}"),
         {"public_id": "$response.body#/credentials/0/id"}, "The newest credential, with its signed document."),
    Link("ReadNewRatings", ("/competencies/{competency_id}/ratings", "post", "201"),
         ("get", "/competencies/{competency_id}/ratings"), {"competency_id": "$response.body#/competency_id"},
         "The competency's ratings, this one first."),
)


def add_links(schema: dict, links: tuple[Link, ...] = LINKS) -> None:
    """Put each link under its source's response in the document; KeyError for a source or target that isn't
    there."""
    paths = schema["paths"]
    for link in links:
        path, method, status = link.source
        target_method, target_path = link.target
        operation_id = paths[target_path][target_method]["operationId"]
        response = paths[path][method]["responses"][status]
        response.setdefault("links", {})[link.name] = {
            "operationId": operation_id, "parameters": dict(link.parameters), "description": link.description}

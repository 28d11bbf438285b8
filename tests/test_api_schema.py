"""Schemathesis against the live app: every operation of /api/v1 with requests generated from its own OpenAPI
document, as the demo school's student (a token that may read and write) and family member (read only), on both
databases; then stateful runs as the student and the teacher, following the document's links (a list to one of its
entries, a new item to reading it, the inbox to a decision...). No answer may be a server error, and each must match
the document: status, content type and schema."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import stateful as schemathesis_stateful
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session, select

from app import storage
from app.main import create_app
from app.models import SchoolClass
from app.services.moderation import approvals
from app.services.demo.demo import DEMO_PASSWORD, seed_demo
from tests.api_tokens import bearer, make_token
from tests.conftest import fast_hashing, make_settings
from tests.factories import login

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 8  # per operation, generation mode and caller: the whole file stays near a minute on two cores
STATEFUL_EXAMPLES = 15  # scenarios per run
STATEFUL_STEPS = 6  # calls per scenario at most
CALLERS = {"student": "read write", "teacher": "read write", "family": "read"}
# Each caller's sequences start from, and follow links among, the operations their role uses (the access matrix asks
# every operation as every role: tests/test_api_access.py).
STATEFUL_OPERATIONS = {"student": r"^/(me|items|goals|feedback-requests)",
                       "teacher": r"^/(classes|students|inbox|approvals)|^/(items|goals)/\{"}
# Hypothesis replays the start of earlier sequences and needs the app to answer them as before; a deleted goal (the
# demo student's, reached through GET /goals) turns those answers to 404s and it stops, so deleting runs in the
# per-operation test above and in tests/test_api_goals.py, not in sequences.
STATEFUL_LEAVES_OUT = "DELETE /goals/{goal_id}"


@pytest.fixture(scope="module")
def live(module_database_url, tmp_path_factory) -> Iterator[tuple]:
    """The demo school, and a token for each caller made on their Account page."""
    with fast_hashing():
        settings = make_settings(tmp_path_factory.mktemp("schema"), module_database_url, api_rate_per_minute=100_000)
        app = create_app(settings)
        with Session(app.state.engine) as session:
            seed_demo(session=session, settings=settings, only_if_empty=True, store=storage.uploads(settings))
            # The teacher's class holds family items for approval, so the inbox has decisions waiting.
            maple = session.exec(select(SchoolClass).where(SchoolClass.name == "Grade 5 Maple")).one()
            maple.family_items_need_approval = True
            session.add(maple)
            assert approvals.queue_existing_family_items(session=session, school_class=maple)
            session.commit()
        tokens = {}
        for username, scopes in CALLERS.items():
            with TestClient(app, follow_redirects=False) as browser:
                login(browser, username, DEMO_PASSWORD)
                tokens[username] = make_token(browser, name="schemathesis", scopes=scopes, expiry="30")
    yield app, tokens
    app.state.engine.dispose()


@pytest.mark.parametrize("username", sorted(CALLERS))
def test_every_operation_conforms_to_the_document(live, username):
    app, tokens = live
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 45
    examples, failures, statuses = 0, [], Counter()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            sent = 0

            @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                                 phases=[Phase.explicit, Phase.generate],
                                 suppress_health_check=list(HealthCheck))
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def conforms(case) -> None:
                nonlocal sent
                sent += 1
                response = case.call(headers=bearer(tokens[username]))
                statuses[response.status_code] += 1
                case.validate_response(response, checks=CHECKS)

            try:
                conforms()
            except Exception as failure:  # noqa: BLE001 (each operation's first failure, reported together)
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {failure}")
            examples += sent
    print(f"\nschemathesis as {username}: {len(operations)} operations, {examples} requests, {len(failures)} failures; "
          f"statuses {dict(sorted(statuses.items()))}")
    assert statuses[200] and statuses[404] and statuses[{"family": 400, "student": 201, "teacher": 403}[username]]
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("username", sorted(STATEFUL_OPERATIONS))
def test_linked_operations_conform_in_sequence(live, username, monkeypatch):
    """Schemathesis's state machine: sequences of calls, each feeding the next through the document's links."""
    app, tokens = live
    # Schemathesis starts sequences only from operations it thinks will succeed with made-up data, and guesses that a
    # POST whose body names ids of something no operation lists (a note's optional `competency_ids`) won't: with that
    # guess, adding a note or link never starts a sequence. Its plain rule instead: POSTs and lists without ids.
    monkeypatch.setattr(schemathesis_stateful, "is_likely_root_transition", lambda operation, _node, _produced: (
        operation.method == "post" or (operation.method == "get" and not operation.path_parameters)))
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app).include(
        path_regex=STATEFUL_OPERATIONS[username]).exclude(name=STATEFUL_LEAVES_OUT)
    links = sum(len(response.get("links", {})) for operations in schema.raw_schema["paths"].values()
                for operation in operations.values() for response in operation["responses"].values())
    statuses, operations, followed, failures = Counter(), set(), Counter(), []

    class Sequences(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": bearer(tokens[username])}

        def step(self, input):
            if input.transition is not None and input.is_applied:
                followed[input.transition.id.split(" -> ")[1].partition("] ")[2]] += 1  # the link's name
            return super().step(input)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            statuses[response.status_code] += 1
            operations.add(f"{case.method.upper()} {case.path}")
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as failure:
                failures.append(f"{case.method.upper()} {case.formatted_path}: {failure}")
                raise

    Sequences.run(settings=hypothesis.settings(
        max_examples=STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS, deadline=None, database=None,
        derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
    print(f"\nstateful schemathesis as {username}: {links} links, {len(operations)} operations, "
          f"{sum(statuses.values())} requests, {sum(followed.values())} links followed, {len(failures)} failures; "
          f"statuses {dict(sorted(statuses.items()))}; followed {dict(sorted(followed.items()))}")
    assert not failures, "\n\n".join(failures)
    assert sum(followed.values()) and statuses[200]

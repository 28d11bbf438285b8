"""Schemathesis against the live app, served over HTTP by uvicorn: every operation of /api/v1 with requests generated from its own OpenAPI
document, as the demo school's student (a token that may read and write) and family member (read only), on both
databases; then stateful runs as the student and the teacher, following the document's links (a list to one of its
entries, a new item to reading it, the inbox to a decision...). No answer may be a server error, and each must match
the document: status, content type, schema and required headers (a 201's `Location`).

Schemathesis's invalid requests include some sent without the `Authorization` header the document requires (it
leaves out the caller's token on purpose): those are counted apart, and must be 401; a request with the token never
is. The stateful runs send the token with every call (their budget goes to following links; the per-operation test
checks the unauthenticated calls)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
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
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session, select

from app import storage
from app.api.links import LINKS
from app.main import create_app
from app.models import SchoolClass
from app.services.moderation import approvals
from app.services.demo.demo import DEMO_PASSWORD, seed_demo
from tests.api_tokens import bearer, make_token
from tests.conftest import fast_hashing, make_settings
from tests.live_server import serving
from tests.factories import login

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES = 8  # per operation, generation mode and caller: the whole file stays near a minute on two cores
# Fewer, longer sequences for the same hundred calls or so: withdrawing a request is the third call from adding a note,
# moving a step the third from setting a goal.
STATEFUL_EXAMPLES = 6  # scenarios per run
STATEFUL_STEPS = 16  # calls per scenario at most
CALLERS = {"student": "read write", "teacher": "read write", "family": "read"}
# Each caller's sequences start from, and follow links among, the operations their role uses (the access matrix asks
# every operation as every role: tests/test_api_access.py).
STATEFUL_OPERATIONS = {
    "student": r"^/(me|items|goals|feedback|reflections|frameworks|self-assessments|competencies|credentials)",
    "teacher": r"^/(classes|students|inbox|approvals)|^/(items|goals)/\{"}
# Each run must follow at least this many of the document's links (distinct ones) and have this many operations answer
# 2xx: what runs reach, less a margin (they vary with the app's state), so links or an API that lead less far fail.
STATEFUL_REACH = {"student": (10, 12), "teacher": (9, 7)}
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
    # Served by uvicorn on a loopback port, as `folio serve` does: schemathesis speaks HTTP to it, headers and all.
    with serving(app) as base_url:
        yield base_url, tokens
    app.state.engine.dispose()


@pytest.mark.parametrize("username", sorted(CALLERS))
def test_every_operation_conforms_to_the_document(live, username):
    base_url, tokens = live
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 45
    examples, failures, statuses, unauthenticated = 0, [], Counter(), Counter()
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
                sent_token = "authorization" in response.request.headers
                (statuses if sent_token else unauthenticated)[response.status_code] += 1
                case.validate_response(response, checks=CHECKS)

            try:
                conforms()
            except Exception as failure:  # noqa: BLE001 (each operation's first failure, reported together)
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {failure}")
            examples += sent
    print(f"\nschemathesis as {username}: {len(operations)} operations, {examples} requests, {len(failures)} failures; "
          f"statuses {dict(sorted(statuses.items()))}; without a token {dict(unauthenticated)}")
    assert not failures, "\n\n".join(failures)
    assert statuses[200] and statuses[404] and statuses[{"family": 400, "student": 201, "teacher": 403}[username]]
    assert 401 not in statuses, "a request with the caller's token was refused as unauthenticated"
    assert set(unauthenticated) == {401}, unauthenticated


@pytest.mark.parametrize("username", sorted(STATEFUL_OPERATIONS))
def test_linked_operations_conform_in_sequence(live, username, monkeypatch):
    """Schemathesis's state machine: sequences of calls, each feeding the next through the document's links."""
    base_url, tokens = live
    # Sequences start from calls that need no id: POSTs and lists without path parameters (an id made up for a
    # POST /goals/{goal_id}/steps is a 404 ending its sequence; links lead there instead). Schemathesis's own rule
    # also leaves out a POST whose body names ids no operation lists (a note's optional `competency_ids`), so adding
    # a note or link would never start a sequence.
    monkeypatch.setattr(schemathesis_stateful, "is_likely_root_transition", lambda operation, _node, _produced: (
        operation.method in ("get", "post") and not operation.path_parameters))
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    # Every call carries the caller's token: left out, it is a 401 that ends the sequence.
    schema.config.generation.update(with_security_parameters=False)
    schema = schema.include(path_regex=STATEFUL_OPERATIONS[username]).exclude(name=STATEFUL_LEAVES_OUT)
    if username == "student":
        # A feedback request names people who can see the item, which no generator guesses (a made-up id is a 422 and
        # the sequence stops there): asking the student's first teacher lets sequences go on to withdraw it.
        teacher = httpx.get(f"{base_url}/api/v1/feedback/recipients", headers=bearer(tokens[username])).json()["people"][0]

        @schema.hook("map_body")
        def ask_a_teacher(context, body):
            if context.operation.path.endswith("/feedback-requests") and isinstance(body, dict):
                return {**body, "recipient_ids": [teacher["id"]]}
            return body

    links = sum(len(response.get("links", {})) for operations in schema.raw_schema["paths"].values()
                for operation in operations.values() for response in operation["responses"].values())
    included = {result.ok().label for result in schema.get_all_operations()}
    statuses, unauthenticated, failures = Counter(), Counter(), []
    reached, succeeded, followed = set(), set(), Counter()
    documented = {link.name for link in LINKS}

    class Sequences(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": bearer(tokens[username])}

        def step(self, input):
            if input.transition is not None and input.is_applied:
                followed[input.transition.id.split(" -> ")[1].partition("] ")[2]] += 1  # the link's name
            return super().step(input)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            operation = f"{case.method.upper()} {case.path}"
            if "authorization" not in response.request.headers:
                unauthenticated[response.status_code] += 1
            statuses[response.status_code] += 1
            reached.add(operation)
            if response.status_code < 300:
                succeeded.add(operation)
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as failure:
                failures.append(f"{case.method.upper()} {case.formatted_path}: {failure}")
                raise

    Sequences.run(settings=hypothesis.settings(
        max_examples=STATEFUL_EXAMPLES, stateful_step_count=STATEFUL_STEPS, deadline=None, database=None,
        derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
    print(f"\nstateful schemathesis as {username}: {links} links, {len(reached)} operations reached, "
          f"{len(succeeded)} answered 2xx, {sum(statuses.values())} requests, {sum(followed.values())} links followed "
          f"({len(followed)} distinct, {len(documented & set(followed))} of the document's), {len(failures)} failures; "
          f"statuses {dict(sorted(statuses.items()))}; "
          f"followed {dict(sorted(followed.items()))}; not reached {sorted(included - reached)}")
    assert not failures, "\n\n".join(failures)
    assert not unauthenticated, f"calls sent without the caller's token: {unauthenticated}"
    assert 401 not in statuses
    least_links, least_operations = STATEFUL_REACH[username]
    assert len(documented & set(followed)) >= least_links, followed
    assert len(succeeded) >= least_operations, sorted(succeeded)

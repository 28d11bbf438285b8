"""Schemathesis against the live app: every operation of /api/v1 with requests generated from its own OpenAPI
document, as the demo school's student (a token that may read and write) and family member (read only), on both
databases. No answer may be a server error, and each must match the document: status, content type and schema."""

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
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

from app import storage
from app.main import create_app
from app.services.demo.demo import DEMO_PASSWORD, seed_demo
from tests.api_tokens import bearer, make_token
from tests.conftest import fast_hashing, make_settings
from tests.factories import login

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 25
CALLERS = {"student": "read write", "family": "read"}


@pytest.fixture(scope="module")
def live(module_database_url, tmp_path_factory) -> Iterator[tuple]:
    """The demo school, and a token for each caller made on their Account page."""
    with fast_hashing():
        settings = make_settings(tmp_path_factory.mktemp("schema"), module_database_url, api_rate_per_minute=100_000)
        app = create_app(settings)
        with Session(app.state.engine) as session:
            seed_demo(session=session, only_if_empty=True, store=storage.uploads(settings))
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
    assert len(operations) == 11
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
    assert statuses[200] and statuses[404] and statuses[400 if username == "family" else 201]
    assert not failures, "\n\n".join(failures)

"""Schemathesis drives the live API from its own OpenAPI document, on SQLite and on PostgreSQL:
generated requests, valid and hostile, must never get a 5xx, nor a response the document does not
describe (status, media type, headers, body)."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.factories import make_event, make_user
from webinars.auth import tokens
from webinars.models import TokenScope

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    # and the API refuses what the document forbids: invalid data, missing auth, other methods
    negative_data_rejection,
    ignored_auth,
    missing_required_header,
    unsupported_method,
]


def test_api_keeps_its_contract(app: Any) -> None:
    owner = make_user()
    make_event(owner, capacity=1, tags=["SDG 9"])
    make_event(owner, publish=False)
    secret = tokens.create_token(owner, "schemathesis", TokenScope.WRITE)[1]
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:
        # Bounded: a dozen generated requests per operation keep the suite fast on two cores.
        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()

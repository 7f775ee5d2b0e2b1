"""schemathesis against /openapi.json: every operation, generated inputs, an admin token, a
live in-process CSMS (SQLite here, PostgreSQL under `make test-store-pg`): no 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.store


def test_no_operation_answers_5xx(services):
    from sqlmodel import Session

    from csms.store.tokens import create_token
    from csms.web.app import create_app

    with Session(services.engine) as s:
        token = create_token(s, "fuzz", "admin")
        s.commit()
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(services))
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:
        @settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} query={case.query} "
                                f"body={str(case.body)[:200]} -> {response.status_code} "
                                f"{response.text[:200]}")

        check()
    assert failures == [], "\n".join(failures[:20])

"""schemathesis against /api/v1/openapi.json, through the WSGI app with a bearer token
(issue 8, ASVS V13.1.x/V13.2.x and V5.1.4): for every documented operation, generated
requests (valid and invalid) never get a server error, and the responses conform to the
document where it describes them (status code, content type, body schema).

The number of examples per operation is bounded (``EXAMPLES``) so the run stays near a
minute per backend; the hostile corpus (test_hostile_input.py) covers the extremes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from network.extensions import limiter
from network.services import accounts

pytestmark = pytest.mark.timeout(300)

EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def bearer(app, db, make_network, make_user, make_contact_point, monkeypatch):  # type: ignore[no-untyped-def]
    wacap = make_network("wacap", acronym="WACAP")
    make_contact_point(networks=["wacap"])
    user = make_user("coordinator", wacap)
    _row, token = accounts.create_token(user, "schemathesis")
    monkeypatch.setattr(limiter, "enabled", False)
    return {"Authorization": f"Bearer {token}"}


def test_the_api_meets_its_openapi_document(app, bearer):  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = 0

    def exercise(operation: Any, mode: GenerationMode) -> None:
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            try:
                response = case.call_and_validate(headers=bearer, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:800]}")
                raise
            statuses[response.status_code] += 1

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:
            if not failures or operation.label not in failures[-1]:
                failures.append(f"{operation.label} [{mode.value}]: {exc!r:.800}")

    for result in schema.get_all_operations():
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            exercise(result.ok(), mode)
    assert operations >= 20
    assert not failures, "\n\n".join(dict.fromkeys(failures))
    assert statuses[200] + statuses[201] > operations, statuses  # requests got through

"""The server keeps the contract it publishes: schemathesis draws requests for every operation of a live
`prag serve`'s own /openapi.json, valid and invalid ones, with the writers' token and without, and every
answer must be a status the document lists, of the content type and schema it gives, and never a 5xx.

Each operation is driven through its Hypothesis strategy (`APIOperation.as_strategy`) rather than
`schemathesis.pytest.from_fixture`: the document exists only once the server is up, and that loader
fails on pytest 9.2 (it reads `Function._nodeid`, which pytest 9.2 no longer has)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from tests.server.live import AUTH, FILLER, Server

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 25
"""Per operation, generation mode and header set."""
OPERATIONS = {
    "POST /v1/documents", "GET /v1/documents", "GET /v1/documents/{doc_id}", "DELETE /v1/documents/{doc_id}",
    "POST /v1/ask", "GET /healthz", "GET /metrics",
}


@pytest.fixture(scope="module")
def live(tmp_path_factory, tiny_model_dir):
    running = Server.in_folder(tmp_path_factory.mktemp("contract"), tiny_model_dir).start()
    assert running.post("/v1/documents", json={"documents": FILLER}, headers=AUTH).status_code == 202  # something to answer from
    yield running
    running.stop()


@pytest.mark.parametrize("headers", [AUTH, {}], ids=["token", "no-token"])
def test_every_answer_is_one_the_document_lists(live, headers, subtests):
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})  # the token is ours to send
    published = schemathesis.openapi.from_url(f"{live.url}/openapi.json", config=config)
    operations = [result.ok() for result in published.get_all_operations()]
    assert {op.label for op in operations} == OPERATIONS
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            with subtests.test(operation=operation.label, mode=mode.value):
                try:
                    answered_by(operation, mode, headers)()
                except Unsatisfiable:
                    if mode is GenerationMode.POSITIVE:
                        raise
                    # No parameters or body (/healthz), or only a path segment, which is any string.
                    pytest.skip("no invalid request to draw")


def answered_by(operation, mode: GenerationMode, headers: dict[str, str]):
    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
        phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck),
    )
    def each(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=60)

    return each

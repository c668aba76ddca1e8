"""The request bodies follow the limits the server was given, not the defaults, and the OpenAPI document
states them; the schema's enums are the shared vocabulary (`Mode.served`, `JobState`). A real app over a
real service on the tiny model, run in-process with its lifespan."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from prag import Prag
from prag.config import AnswerConfig, IngestConfig, ServiceConfig
from prag.server.app import create_app
from prag.server.schemas import DocumentOut, request_bodies
from prag.server.service import Service
from prag.types import JobState, Mode
from tests.conftest import FAST

CUSTOM = ServiceConfig(max_documents_per_request=2, max_top_k=2, max_page=5)
CUSTOM_INGEST = IngestConfig(max_document_chars=50)
CUSTOM_QUESTION_CHARS = 30


def docs(*ids: str) -> dict:
    return {"documents": [{"id": i, "text": f"Document {i} is about the town of {i}."} for i in ids]}


@contextmanager
def running(tiny_model_dir, service_config: ServiceConfig, answer: AnswerConfig = FAST.answer, ingest: IngestConfig = FAST.ingest):
    prag = Prag(model=str(tiny_model_dir), settings=replace(FAST, service=service_config, answer=answer, ingest=ingest))
    service = Service(prag)
    try:
        with TestClient(create_app(service)) as client:  # runs the lifespan: the service starts and stops
            yield client
    finally:
        service.worker.stop()
        if service.worker.is_alive():  # let the encoder finish its unit, so it cannot outlive the test
            service.worker.join(120)
        assert not service.worker.is_alive()


@pytest.fixture
def custom(tiny_model_dir):
    with running(tiny_model_dir, CUSTOM, replace(FAST.answer, max_question_chars=CUSTOM_QUESTION_CHARS), CUSTOM_INGEST) as client:
        yield client


@pytest.fixture
def default(tiny_model_dir):
    with running(tiny_model_dir, ServiceConfig()) as client:
        yield client


def field_errors(response) -> list[str]:
    assert response.status_code == 422, response.text
    return [".".join(map(str, e["loc"])) for e in response.json()["detail"]]


def test_custom_limits_refuse_what_they_bound(custom):
    assert field_errors(custom.post("/v1/documents", json=docs("a", "b", "c"))) == ["body.documents"]
    assert field_errors(custom.post("/v1/documents", json={"documents": [{"id": "long", "text": "x" * 51}]})) == [
        "body.documents.0.text"
    ]
    assert field_errors(custom.post("/v1/ask", json={"question": "q" * (CUSTOM_QUESTION_CHARS + 1)})) == ["body.question"]
    assert field_errors(custom.post("/v1/ask", json={"question": "Where?", "top_k": 3})) == ["body.top_k"]
    assert field_errors(custom.get("/v1/documents", params={"limit": 6})) == ["query.limit"]
    assert custom.get("/healthz").json()["documents"] == {s.value: 0 for s in JobState}  # nothing was added


def test_custom_limits_accept_what_they_allow(custom):
    added = custom.post("/v1/documents", json=docs("velmora", "tarsk"))
    assert added.status_code == 202, added.text
    assert [d["id"] for d in added.json()["documents"]] == ["velmora", "tarsk"]
    assert custom.post("/v1/documents", json={"documents": [{"id": "edge", "text": "x" * 50}]}).status_code == 202

    answer = custom.post("/v1/ask", json={"question": "q" * CUSTOM_QUESTION_CHARS, "top_k": 2})
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["documents"]) == 2
    page = custom.get("/v1/documents", params={"limit": 5})
    assert page.status_code == 200 and page.json()["limit"] == 5 and len(page.json()["documents"]) == 3


def test_the_default_limits_accept_what_the_custom_ones_refused(default):
    added = default.post("/v1/documents", json=docs("a", "b", "c"))
    assert added.status_code == 202, added.text
    assert default.post("/v1/documents", json={"documents": [{"id": "long", "text": "x" * 51}]}).status_code == 202
    answer = default.post("/v1/ask", json={"question": "q" * (CUSTOM_QUESTION_CHARS + 1), "top_k": 3})
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["documents"]) == 3
    assert default.get("/v1/documents", params={"limit": 6}).status_code == 200


def test_openapi_states_the_custom_limits(custom):
    spec = custom.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["DocumentsIn"]["properties"]["documents"]["maxItems"] == 2
    assert schemas["DocumentIn"]["properties"]["text"]["maxLength"] == 50
    assert schemas["AskIn"]["properties"]["question"]["maxLength"] == CUSTOM_QUESTION_CHARS
    assert schemas["AskIn"]["properties"]["top_k"]["maximum"] == 2
    limit = next(p for p in spec["paths"]["/v1/documents"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 5


def test_openapi_of_the_default_limits_differs(default):
    schemas = default.get("/openapi.json").json()["components"]["schemas"]
    limits = ServiceConfig()
    assert schemas["DocumentsIn"]["properties"]["documents"]["maxItems"] == limits.max_documents_per_request
    assert schemas["DocumentIn"]["properties"]["text"]["maxLength"] == IngestConfig().max_document_chars
    assert schemas["AskIn"]["properties"]["question"]["maxLength"] == AnswerConfig().max_question_chars
    assert schemas["AskIn"]["properties"]["top_k"]["maximum"] == limits.max_top_k


def test_schema_enums_are_the_shared_vocabulary(custom):
    schemas = custom.get("/openapi.json").json()["components"]["schemas"]
    mode_ref = schemas["AskIn"]["properties"]["mode"]["$ref"].rsplit("/", 1)[-1]
    assert schemas[mode_ref]["enum"] == [m.value for m in Mode if m.served]
    assert schemas["AskIn"]["properties"]["mode"]["default"] == Mode.AUTO.value
    status_ref = schemas["DocumentOut"]["properties"]["status"]["$ref"].rsplit("/", 1)[-1]
    assert schemas[status_ref]["enum"] == [s.value for s in JobState]


def test_request_models_enums_without_an_app():
    ask = request_bodies(ServiceConfig(), AnswerConfig(), IngestConfig()).ask_in.model_json_schema()
    mode = ask["$defs"][ask["properties"]["mode"]["$ref"].rsplit("/", 1)[-1]]
    assert mode["enum"] == [m.value for m in Mode if m.served] == ["closed", "rag", "prag", "combine", "auto"]
    out = DocumentOut.model_json_schema()
    assert out["$defs"]["JobState"]["enum"] == [s.value for s in JobState]


def test_an_unserved_mode_is_refused(custom):
    for mode in (m.value for m in Mode if not m.served):
        assert field_errors(custom.post("/v1/ask", json={"question": "Why?", "mode": mode})) == ["body.mode"]


def test_a_question_without_top_k_stays_within_max_top_k(custom):
    for ids in (("a", "b"), ("c", "d")):
        assert custom.post("/v1/documents", json=docs(*ids)).status_code == 202
    answer = custom.post("/v1/ask", json={"question": "Which town?"})
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["documents"]) <= CUSTOM.max_top_k


def test_a_page_without_limit_stays_within_max_page(custom):
    for ids in (("a", "b"), ("c", "d"), ("e", "f")):
        assert custom.post("/v1/documents", json=docs(*ids)).status_code == 202
    page = custom.get("/v1/documents").json()
    assert page["limit"] <= CUSTOM.max_page and len(page["documents"]) <= CUSTOM.max_page

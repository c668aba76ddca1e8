"""`prag serve` as users run it: a real uvicorn process on a loopback port, spoken to over HTTP."""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.fixtures.facts import DEMO_FACTS
from tests.server.live import AUTH, FILLER, Server


@pytest.fixture
def server(tmp_path, tiny_model_dir):
    """A fresh server per test: for the tests that kill it or count what it stored."""
    running = Server.in_folder(tmp_path, tiny_model_dir).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def live(tmp_path_factory, tiny_model_dir):
    """One server for the tests that only probe it, with a few documents to answer from."""
    running = Server.in_folder(tmp_path_factory.mktemp("live"), tiny_model_dir).start()
    assert running.post("/v1/documents", json={"documents": FILLER}, headers=AUTH).status_code == 202
    yield running
    running.stop()


def ask(server: Server, question: str, **fields) -> dict:
    response = server.post("/v1/ask", json={"question": question, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def stored_ids(server: Server) -> list[str]:
    return [d["id"] for d in server.get("/v1/documents").json()["documents"]]


def sent_as_is(server: Server, method: str, path: str) -> tuple[int, bytes]:
    """A request whose path goes out unchanged: httpx, like a browser, resolves `..` before sending."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request(method, path, headers=AUTH)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def stored_adapters(server: Server) -> list[str]:
    """The documents whose adapters are on disk, from each adapter's provenance."""
    return [json.loads(p.read_text())["document"] for p in (server.home / "adapters").rglob("prag_meta.json")]


def test_add_ask_before_and_after_encoding_then_delete(server):
    velmora = DEMO_FACTS[0]
    # Fillers first: the queue is first in, first out, so Velmora waits while we ask about it.
    assert server.post("/v1/documents", json={"documents": FILLER}, headers=AUTH).status_code == 202
    added = server.post("/v1/documents", json={"documents": [velmora]}, headers=AUTH)
    assert added.status_code == 202 and added.json()["documents"] == [{"id": "velmora", "status": "queued", "reason": None}]

    early = ask(server, "When was Velmora founded by Aldric Fenn?", top_k=1)
    assert early["mode"] == "auto" and early["documents"] == [{"id": "velmora", "how": "in-context"}]
    assert set(early["timings"]) >= {"retrieve", "generate", "total"}

    server.wait_encoded(["velmora"])
    late = ask(server, "When was Velmora founded by Aldric Fenn?", top_k=1)
    assert late["documents"] == [{"id": "velmora", "how": "parametric"}]
    combined = ask(server, "When was Velmora founded by Aldric Fenn?", top_k=1, mode="combine")
    assert combined["documents"] == [{"id": "velmora", "how": "both"}]

    listed = server.get("/v1/documents", params={"offset": 0, "limit": 2}).json()
    assert [d["id"] for d in listed["documents"]] == ["filler-0", "filler-1"] and sum(listed["counts"].values()) == 5
    # Re-adding a known document answers `encoded` at once.
    again = server.post("/v1/documents", json={"documents": [velmora]}, headers=AUTH).json()
    assert again["documents"][0]["status"] == "encoded"

    assert "velmora" in stored_adapters(server)
    assert server.delete("/v1/documents/velmora", headers=AUTH).status_code == 204
    assert server.get("/v1/documents/velmora").status_code == 404
    after = ask(server, "When was Velmora founded by Aldric Fenn?", top_k=3)
    assert "velmora" not in [d["id"] for d in after["documents"]]
    remaining = stored_adapters(server)
    assert "velmora" not in remaining and set(remaining) == {d["id"] for d in FILLER} & set(remaining)


def test_bad_requests_are_4xx_with_a_message_and_change_nothing(live):
    server = live
    before = stored_ids(server)
    doc = {"id": "x", "text": "Some text."}
    cases = [
        (server.post("/v1/documents", content=b"{not json", headers={**AUTH, "content-type": "application/json"}), 422),
        (server.post("/v1/documents", json={"docs": [doc]}, headers=AUTH), 422),
        (server.post("/v1/documents", json={"documents": [{"id": "x"}]}, headers=AUTH), 422),
        (server.post("/v1/documents", json={"documents": [{"id": 7, "text": "t"}]}, headers=AUTH), 422),
        (server.post("/v1/documents", json={"documents": [doc, doc]}, headers=AUTH), 422),
        (server.post("/v1/documents", json={"documents": [{"text": "word " * 500}]}, headers=AUTH), 422),
        (server.post("/v1/documents", content=b"x" * (3 * 2**20), headers={**AUTH, "content-type": "application/json"}), 413),
        (server.post("/v1/documents", json={"documents": [doc]}), 401),
        (server.post("/v1/documents", json={"documents": [doc]}, headers={"Authorization": "Bearer wrong"}), 401),
        (server.delete("/v1/documents/x"), 401),
        (server.delete("/v1/documents/nope", headers=AUTH), 404),
        (server.get("/v1/documents/nope"), 404),
        (server.post("/v1/ask", json={"question": "Why?", "mode": "magic"}), 422),
        (server.post("/v1/ask", json={"question": "Why?", "top_k": "3"}), 422),
        (server.post("/v1/ask", json={"question": "Why?", "top_k": 99}), 422),
        (server.post("/v1/ask", json={"question": ""}), 422),
        (server.post("/v1/ask", json={"question": "q" * 5000}), 422),
        (server.post("/v1/ask", json={}), 422),
        (server.get("/v1/documents", params={"limit": 0}), 422),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert response.json()["detail"], response.text
    assert stored_ids(server) == before


def test_metrics_and_openapi(live):
    server = live
    ask(server, "Anything at all?", mode="closed")
    text = server.get("/metrics").text
    assert "prag_encoding_queue_depth" in text and 'prag_documents{status="encoded"}' in text
    assert 'prag_request_seconds_count{method="POST",route="/v1/ask",status="200"}' in text
    assert server.get("/openapi.json").json()["paths"].keys() >= {"/v1/documents", "/v1/ask", "/healthz", "/metrics"}


def test_kill_9_while_encoding_then_restart_finishes_everything_once(server):
    ids = [d["id"] for d in FILLER] + [d["id"] for d in DEMO_FACTS]
    assert server.post("/v1/documents", json={"documents": FILLER + DEMO_FACTS}, headers=AUTH).status_code == 202
    deadline = time.monotonic() + 120
    while server.get("/healthz").json()["documents"]["encoded"] < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    states = {d["id"]: d["status"] for d in server.get("/v1/documents").json()["documents"]}
    server.kill()
    done_before = {i for i, s in states.items() if s == "encoded"}
    assert done_before and len(done_before) < len(ids), states

    server.start()
    server.wait_encoded(ids)
    with sqlite3.connect(server.home / "prag.db") as db:
        attempts = dict(db.execute("SELECT id, attempts FROM encoding_jobs"))
    assert all(attempts[i] == 1 for i in done_before), attempts  # finished work is never redone
    adapters = list((server.home / "adapters").rglob("adapter_model.safetensors"))
    assert len(adapters) == len(ids)
    assert not [p for p in (server.home / "adapters").rglob("*") if p.name.endswith(".tmp")]


def test_concurrent_clients_are_answered_in_batches_without_errors(server):
    assert server.post("/v1/documents", json={"documents": DEMO_FACTS}, headers=AUTH).status_code == 202
    questions = ["When was Velmora founded?", "Who leads Quillon Dynamics?", "How tall is the clock tower?"]

    def client(n: int) -> list[int]:
        return [server.post("/v1/ask", json={"question": questions[(n + i) % 3]}).status_code for i in range(5)]

    with ThreadPoolExecutor(8) as pool:
        codes = [c for result in pool.map(client, range(8)) for c in result]
    assert codes == [200] * 40
    metrics = server.get("/metrics").text
    batches = float(next(l.split()[-1] for l in metrics.splitlines() if l.startswith("prag_ask_batch_size_count")))
    assert batches < 40  # some requests shared a generation


def test_a_blank_question_fails_alone_among_concurrent_ones(live):
    # "   " is refused by the request schema; U+001F passes it (it is not Unicode white space) but not the
    # engine, which strips what Python calls space: that one reaches the batcher inside a shared batch.
    for blank in ("   ", "\x1f"):
        questions = ["When was the place founded?", blank, "Who talks about weather?", "Where is place 2?"]
        together = threading.Barrier(len(questions))

        def post(question: str) -> httpx.Response:
            together.wait()
            return live.post("/v1/ask", json={"question": question, "top_k": 2})

        with ThreadPoolExecutor(len(questions)) as pool:
            responses = list(pool.map(post, questions))
        assert [r.status_code for r in responses] == [200, 422, 200, 200], [r.text for r in responses]
        assert responses[1].json()["detail"]


def test_ids_with_slashes_or_dots_can_be_read_and_deleted(live):
    ids = ["a/b", "e/f", "..", "c/../d"]
    documents = [{"id": i, "text": f"A document called {i} for the path test."} for i in ids]
    added = live.post("/v1/documents", json={"documents": documents}, headers=AUTH)
    assert [d["id"] for d in added.json()["documents"]] == ids, added.text
    for path in ("a/b", "a%2Fb"):  # uvicorn decodes %2F before routing: both name the same id
        assert live.get(f"/v1/documents/{path}").json()["id"] == "a/b"
    for path, doc_id in (("..", ".."), ("c/../d", "c/../d")):
        status, body = sent_as_is(live, "GET", f"/v1/documents/{path}")
        assert status == 200 and json.loads(body)["id"] == doc_id, body

    assert live.delete("/v1/documents/a/b", headers=AUTH).status_code == 204
    assert live.delete("/v1/documents/e%2Ff", headers=AUTH).status_code == 204
    assert sent_as_is(live, "DELETE", "/v1/documents/..")[0] == 204
    assert sent_as_is(live, "DELETE", "/v1/documents/c/../d")[0] == 204
    for path in ("a/b", "e%2Ff"):
        assert live.get(f"/v1/documents/{path}").status_code == 404
    assert sent_as_is(live, "GET", "/v1/documents/..")[0] == 404
    assert not set(ids) & set(stored_ids(live))


def test_a_lone_surrogate_is_a_422_and_stores_nothing(live):
    before = stored_ids(live)
    json_body = {**AUTH, "content-type": "application/json"}
    # Valid JSON (an escape for half a UTF-16 pair), but no UTF-8 text: sent as raw bytes, since Python's
    # json would write the character itself.
    bodies = [
        ("/v1/documents", b'{"documents": [{"text": "x \\udcff"}]}'),
        ("/v1/documents", b'{"documents": [{"id": "\\udcff", "text": "x"}]}'),
        ("/v1/documents", b'{"documents": [{"title": "\\ud800", "text": "x"}]}'),
        ("/v1/ask", b'{"question": "why \\udcff"}'),
        ("/v1/ask", b'{"question": "why", "mode": "\\udcff"}'),
        ("/v1/ask", b'{"question": "why", "\\udcff": 1}'),
    ]
    for path, body in bodies:
        response = live.post(path, content=body, headers=json_body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"], response.text
    assert stored_ids(live) == before


def test_a_streamed_body_is_bounded_like_a_declared_one(live):
    def chunks(body: bytes, size: int = 2**16):
        for start in range(0, len(body), size):
            yield body[start : start + size]

    json_body = {**AUTH, "content-type": "application/json"}
    over = live.post("/v1/documents", content=chunks(b"x" * (3 * 2**20)), headers=json_body)
    assert over.request.headers["transfer-encoding"] == "chunked" and "content-length" not in over.request.headers
    assert over.status_code == 413 and "body over" in over.json()["detail"]
    # Under the bound, a streamed body reaches the route whole.
    question = json.dumps({"question": "Where is place " + "very " * 5 + "far?", "top_k": 1}).encode()
    answered = live.post("/v1/ask", content=chunks(question, 7), headers=json_body)
    assert answered.status_code == 200, answered.text

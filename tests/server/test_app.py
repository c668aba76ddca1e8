"""`prag serve` as users run it: a real uvicorn process on a loopback port, spoken to over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.fixtures.facts import DEMO_FACTS

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FILLER = [{"id": f"filler-{i}", "title": f"Filler {i}", "text": f"Filler document number {i} talks about weather in place {i}."} for i in range(4)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, home: Path, model: Path, token_file: Path):
        self.home, self.model, self.token_file = home, model, token_file
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> "Server":
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "prag.cli.main", "--home", str(self.home), "--model", str(self.model),
                   "serve", "--port", str(port), "--token-file", str(self.token_file)]
        self.process = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not come up")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.url + path, timeout=60, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return httpx.post(self.url + path, timeout=60, **kw)

    def delete(self, path: str, **kw) -> httpx.Response:
        return httpx.delete(self.url + path, timeout=60, **kw)

    def wait_encoded(self, ids: list[str], timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = {i: self.get(f"/v1/documents/{i}").json()["status"] for i in ids}
            assert "failed" not in states.values(), states
            if set(states.values()) == {"encoded"}:
                return
            time.sleep(0.3)
        raise AssertionError(f"not encoded in time: {states}")


@pytest.fixture
def server(tmp_path, tiny_model_dir):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    running = Server(tmp_path / "server-home", tiny_model_dir, token_file).start()
    yield running
    running.stop()


def ask(server: Server, question: str, **fields) -> dict:
    response = server.post("/v1/ask", json={"question": question, **fields})
    assert response.status_code == 200, response.text
    return response.json()


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


def test_bad_requests_are_4xx_with_a_message_and_change_nothing(server):
    before = server.get("/healthz").json()["documents"]
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
    assert server.get("/healthz").json()["documents"] == before


def test_metrics_and_openapi(server):
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

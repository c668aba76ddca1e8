"""Damaged state, file kind by file kind, on files a real build wrote: each is found and named in one
line, counts as missing, and the next build (or the service's encoder) writes it again."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from prag import Prag
from prag.cli.main import app
from prag.config import PAPER_RECIPE, Settings
from prag.errors import DamagedError, ModelError
from prag.paths import MODEL_CACHE_ENV
from prag.server.app import create_app
from prag.server.service import Service
from prag.types import JobState

from .conftest import FAST

QUESTION = "When was Velmora founded?"


def reopened(prag: Prag) -> Prag:
    """The same collection as a new process sees it: nothing remembered from before the damage."""
    return Prag(prag.home, prag.collection, prag.model_spec, prag.settings)


def adapter_folder(prag: Prag, doc_id: str) -> Path:
    return prag.runtime.adapter_store.path(prag.catalog.document(prag.collection, doc_id).content_hash)


def one_line(text: str) -> bool:
    return "\n" not in text.strip()


# Ways to damage a stored adapter: the folder is the adapter's.


def truncate_weights(folder: Path) -> None:
    weights = folder / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])


def overwrite_tensors(folder: Path) -> None:
    """Same size, header intact: safetensors still parses it, and every factor becomes NaN."""
    weights = folder / "adapter_model.safetensors"
    data = weights.read_bytes()
    start = 8 + int.from_bytes(data[:8], "little")  # a u64 header length, the JSON header, then the tensors
    weights.write_bytes(data[:start] + b"\xff" * (len(data) - start))


def forget_digests(folder: Path) -> None:
    """As an adapter saved before prag recorded its files' sha256."""
    meta = json.loads((folder / "prag_meta.json").read_text())
    meta.pop("sha256", None)
    (folder / "prag_meta.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("damage", [truncate_weights, overwrite_tensors, forget_digests])
def test_a_damaged_adapter_is_named_counted_missing_and_encoded_again(tiny, damage):
    tiny.build()
    folder = adapter_folder(tiny, "velmora")
    original = tiny.runtime.adapter_store.load(folder.name)
    damage(folder)
    prag = reopened(tiny)

    status = prag.status()
    assert (status.documents, status.encoded) == (3, 2)
    [note] = status.damaged
    assert one_line(note) and "'velmora'" in note and folder.name[:12] in note and "damaged" in note
    with pytest.raises(DamagedError, match=r"'velmora'.*damaged.*run `prag build`") as refused:
        prag.ask(QUESTION, "prag")
    assert one_line(str(refused.value))
    auto = prag.ask(QUESTION, "auto")  # the damaged adapter's document is read as a passage instead
    assert "velmora" in auto.documents and "velmora" not in auto.parametric and len(auto.parametric) == 2

    report = prag.build()
    assert (report.encoded, report.repaired) == (1, [note])
    assert prag.status().encoded == 3 and prag.status().damaged == []
    repaired = prag.runtime.adapter_store.load(folder.name)
    for name, (a, b) in original.factors.items():  # the same training again, alone rather than batched
        torch.testing.assert_close(repaired.factors[name][0], a, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(repaired.factors[name][1], b, rtol=1e-4, atol=1e-5)
    assert "velmora" in prag.ask(QUESTION, "prag").parametric


# Ways to damage the BM25 index: the folder is the index's.


def garble_ids(folder: Path) -> None:
    (folder / "ids.json").write_text("{garbled")


def truncate_ids(folder: Path) -> None:
    ids = folder / "ids.json"
    ids.write_bytes(ids.read_bytes()[:20])


def overwrite_scores(folder: Path) -> None:
    """Same size, .npy header intact: bm25s loads it and would rank by wrong scores."""
    scores = folder / "data.csc.index.npy"
    data = scores.read_bytes()
    scores.write_bytes(data[:-8] + b"\xff" * 8)


def truncate_indices(folder: Path) -> None:
    indices = folder / "indices.csc.index.npy"
    indices.write_bytes(indices.read_bytes()[:-20])


@pytest.mark.parametrize("damage", [garble_ids, truncate_ids, overwrite_scores, truncate_indices])
def test_a_damaged_index_is_named_and_rebuilt_by_the_next_build(tiny, damage):
    tiny.build()
    damage(tiny.builder.index_dir)
    prag = reopened(tiny)

    with pytest.raises(DamagedError, match=r"BM25 index .* damaged: .*run `prag build`") as refused:
        prag.ask(QUESTION, "auto")
    assert one_line(str(refused.value))
    status = prag.status()
    [note] = status.damaged
    assert not status.indexed and one_line(note) and str(tiny.builder.index_dir) in note

    report = prag.build()
    assert report.reindexed and report.repaired == [note] and report.encoded == 0
    assert prag.status().indexed and prag.status().damaged == []
    assert prag.ask(QUESTION, "auto").documents[0] == "velmora"


@pytest.mark.parametrize("text", ["{garbled", "", '["not", "an", "object"]'])
def test_a_garbled_fingerprint_memo_is_rebuilt(tiny_model_dir, facts_file, tmp_path, monkeypatch, text):
    monkeypatch.setenv(MODEL_CACHE_ENV, str(tmp_path / "models"))  # never the memo the other tests share
    prag = Prag(model=str(tiny_model_dir), settings=FAST)
    prag.add([facts_file])
    prag.build()
    memo = tmp_path / "models" / "fingerprints.json"
    fingerprint = prag.runtime.model_fingerprint
    memo.write_text(text)

    again = reopened(prag)
    assert again.status().encoded == 3  # the same fingerprint, so the same adapters
    assert again.runtime.model_fingerprint == fingerprint
    assert list(json.loads(memo.read_text()).values()) == [fingerprint]


@pytest.mark.parametrize(
    "config", ["{not json", "", "[]", json.dumps({"model_type": "llama", "hidden_size": "thirty-two"})]
)
def test_a_model_folder_with_a_bad_config_is_a_one_line_model_error(tiny_model_dir, facts_file, tmp_path, config):
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    good = (model / "config.json").read_text()
    (model / "config.json").write_text(config)
    prag = Prag(model=str(model), settings=FAST)
    prag.add([facts_file])
    with pytest.raises(ModelError, match=rf"^cannot load the model in {model}: ") as refused:
        prag.build()
    assert one_line(str(refused.value))

    (model / "config.json").write_text(good)  # the user mends the folder
    assert reopened(prag).build().encoded == 3


def test_the_cli_names_a_damaged_adapter_in_one_line_and_build_repairs_it(tiny_model_dir, facts_file, tmp_path):
    home = tmp_path / "cli-home"
    common = ["--home", str(home), "--model", str(tiny_model_dir), "--recipe", "paper"]
    runner = CliRunner()
    assert runner.invoke(app, [*common, "add", str(facts_file)]).exit_code == 0
    assert runner.invoke(app, [*common, "build"]).exit_code == 0
    truncate_weights(adapter_folder(Prag(home, model=str(tiny_model_dir), settings=Settings(recipe=PAPER_RECIPE)), "velmora"))

    refused = runner.invoke(app, [*common, "ask", QUESTION, "--mode", "prag"])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert one_line(refused.output) and "'velmora'" in refused.output and "run `prag build`" in refused.output
    rebuilt = runner.invoke(app, [*common, "build"])
    assert rebuilt.exit_code == 0 and "1 newly encoded" in rebuilt.output
    assert runner.invoke(app, [*common, "ask", QUESTION, "--mode", "prag"]).exit_code == 0


def test_the_service_starts_with_a_damaged_adapter_and_its_encoder_replaces_it(tiny):
    tiny.build()
    ids = [d.id for d in tiny.documents()]
    tiny.builder.queue.enqueue(tiny.collection, ids, JobState.ENCODED)  # as a service that encoded them left them
    truncate_weights(adapter_folder(tiny, "velmora"))
    service = Service(reopened(tiny))
    try:
        with TestClient(create_app(service)) as client:  # runs the lifespan: start-up must not fail
            answer = client.post("/v1/ask", json={"question": QUESTION, "mode": "auto"})
            assert answer.status_code == 200 and answer.json()["documents"][0]["id"] == "velmora"
            deadline = time.monotonic() + 60
            while (job := client.get("/v1/documents/velmora").json())["status"] != "encoded":
                assert job["status"] != "failed" and time.monotonic() < deadline, job
                time.sleep(0.05)
    finally:
        service.worker.stop()
        if service.worker.is_alive():  # let the encoder finish its unit, so it cannot outlive the test
            service.worker.join(120)
    status = reopened(tiny).status()
    assert status.encoded == 3 and status.damaged == []

"""`prag build` and `prag serve` on a local Ray (2 CPUs, workers of 1 thread): the same adapters as one
process, a killed worker's batch done again elsewhere, workers with another or no model refused, a
service's background encoding on the workers. Real Ray processes; the tiny model."""

from __future__ import annotations

import shutil
import socket

import pytest
import ray
import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from prag import Prag
from prag.cli.main import app, with_ray_default
from prag.config import ClusterConfig
from prag.errors import ClusterError
from prag.server.service import Service
from prag.types import Document, JobState, Mode

from ..conftest import FAST
from ..fixtures.facts import DEMO_FACTS
from ..test_build import count_saves
from .conftest import TRAINING, WorkerKiller

TWO_WORKERS = ClusterConfig(workers=2)


def test_prag_build_ray_starts_a_local_ray_and_stops_it(tiny_model_dir, facts_file, tmp_path):
    """Runs first, while this process has no Ray of its own: `--ray` alone starts one and shuts it down."""
    common = ["--home", str(tmp_path / "home"), "--model", str(tiny_model_dir)]
    runner = CliRunner()
    assert "added 3" in runner.invoke(app, [*common, "add", str(facts_file)]).output
    result = runner.invoke(app, [*common, "build", *with_ray_default(["--ray"]), "--workers", "2"], catch_exceptions=False)
    assert result.exit_code == 0 and "3 newly encoded" in result.output, result.output
    assert not ray.is_initialized()


def test_an_address_nothing_listens_at_is_one_clear_line(tiny, tmp_path):
    """Also before this module's own Ray starts: given a Ray session, prag uses it whatever the address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ClusterError, match=f"cannot reach the Ray cluster at 127.0.0.1:{port}: Connection refused"):
        tiny.build(cluster=ClusterConfig(address=f"127.0.0.1:{port}"))


def test_ray_options_are_checked():
    assert with_ray_default(["build", "--ray"]) == ["build", "--ray", "local"]
    assert with_ray_default(["build", "--ray", "--workers", "2"]) == ["build", "--ray", "local", "--workers", "2"]
    assert with_ray_default(["build", "--ray", "auto"]) == ["build", "--ray", "auto"]
    result = CliRunner().invoke(app, ["build", "--workers", "2"])
    assert result.exit_code == 2 and "need --ray" in result.output


@pytest.fixture(scope="module")
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="error")
    yield
    ray.shutdown()


def test_a_build_on_ray_stores_what_one_process_stores(local_ray, tiny_model_dir, towns, tmp_path):
    """The same augmentations exactly (greedy, and sampled retries seeded per batch of the same
    documents), and adapters within the encoder's stated 2e-6 (tests/test_encode.py: float32 summation
    order; here also 1 torch thread per worker against this process's own)."""
    alone = Prag(tmp_path / "alone", model=str(tiny_model_dir), settings=FAST)
    on_ray = Prag(tmp_path / "ray", model=str(tiny_model_dir), settings=FAST)
    for prag in (alone, on_ray):
        prag.add([towns])
    alone.build()
    report = on_ray.build(cluster=TWO_WORKERS)
    assert (report.documents, report.augmented, report.encoded, report.failed) == (12, 12, 12, {})
    for doc in alone.documents():
        assert on_ray.builder.augmentation(doc) == alone.builder.augmentation(doc)
        expected = alone.runtime.adapter_store.load(doc.content_hash)
        got = on_ray.runtime.adapter_store.load(doc.content_hash)
        for name, (a, b) in expected.factors.items():
            got_a, got_b = got.factors[name]
            assert torch.allclose(got_a, a, atol=2e-6, rtol=0) and torch.allclose(got_b, b, atol=2e-6, rtol=0), (doc.id, name)
    meta = (on_ray.runtime.adapter_store.path(doc.content_hash) / "prag_meta.json").read_text()
    assert on_ray.runtime.model_fingerprint in meta  # stored by the driver, with its provenance


def test_a_killed_workers_batch_is_retried_and_every_document_encoded_once(local_ray, tiny_model_dir, towns, monkeypatch):
    prag = Prag(model=str(tiny_model_dir), settings=TRAINING)
    prag.add([towns])
    prag.build(encode=False)  # augmented first, so that the kill lands in an encoding batch
    saved = count_saves(monkeypatch)
    killer = WorkerKiller("encode")
    killer.start()
    try:
        report = prag.build(cluster=TWO_WORKERS)
    finally:
        killer.stop()
    assert len(killer.killed) == 1, "no worker was killed mid-batch"
    assert (report.encoded, report.failed) == (12, {})
    hashes = {d.content_hash for d in prag.documents()}
    assert sorted(saved) == sorted(hashes)  # each document stored exactly once, none lost
    assert prag.status().encoded == 12


def test_workers_that_load_another_model_are_refused(local_ray, tiny_model_dir, facts_file, tmp_path):
    """The driver fingerprints its model; the workers then find other weights at the same path, as on a
    node whose copy differs."""
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    prag = Prag(model=str(model), settings=FAST)
    prag.add([facts_file])
    driver_fingerprint = prag.runtime.model_fingerprint
    weights = load_file(model / "model.safetensors")
    save_file({name: t + 0.01 for name, t in weights.items()}, model / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ClusterError, match=f"different model.*this build's is {driver_fingerprint}.*pip install"):
        prag.build(cluster=TWO_WORKERS)
    assert prag.status().encoded == 0


def test_workers_without_the_model_are_refused(local_ray, tiny_model_dir, facts_file, tmp_path):
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    prag = Prag(model=str(model), settings=FAST)
    prag.add([facts_file])
    prag.runtime.model_fingerprint  # the driver has the model; then the workers' copy is gone
    shutil.rmtree(model)
    with pytest.raises(ClusterError, match="could not start.*unknown model.*Every node needs prag"):
        prag.build(cluster=TWO_WORKERS)


def test_a_service_encodes_on_ray_workers_and_answers_here(local_ray, tiny_model_dir, monkeypatch):
    saved = count_saves(monkeypatch)
    service = Service(Prag(model=str(tiny_model_dir), settings=FAST), cluster=TWO_WORKERS)
    try:
        assert service.worker.gate is not service.gate  # encoding elsewhere never makes answers wait
        service._prepare()
        service.add([Document(**fact) for fact in DEMO_FACTS])  # queued oldest first: velmora, quillon, brevik
        # As many documents at a time as there are workers, each a batch of its own.
        assert service.worker.work_once()
        status = {f["id"]: service.prag.job(f["id"]).status for f in DEMO_FACTS}
        assert status == {"velmora": JobState.ENCODED, "quillon": JobState.ENCODED, "brevik": JobState.QUEUED}
        assert service.worker.work_once() and not service.worker.work_once()
        assert {service.prag.job(f["id"]).status for f in DEMO_FACTS} == {JobState.ENCODED}
        assert len(saved) == 3
        assert service.prag.status().encoded == 3
        answer = service._answer_many(["When was Velmora founded?"], Mode.AUTO, 1)[0]
        assert answer.parametric == answer.documents == ["velmora"]
    finally:
        service._stop_cluster()

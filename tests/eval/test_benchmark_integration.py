"""The CI slice of `prag eval`: the real default model on the first HotpotQA-500 questions, two methods,
through the CLI, so that loaders, chain-of-thought prompting, metrics and the report stay tested."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prag.cli.main import app
from prag.store.files import read_jsonl

from tests.fixtures.facts import write_hotpot

pytestmark = pytest.mark.integration

HOTPOT = Path(__file__).resolve().parents[3] / "shared" / "data" / "hotpotqa" / "HotpotQA_500_benchmark.json"


def hotpot_slice(tmp_path: Path) -> Path:
    """HotpotQA-500 from shared/data; where a checkout has none beside it, questions in the same format
    about the invented demo facts, so the slice never silently skips."""
    return HOTPOT if HOTPOT.is_file() else write_hotpot(tmp_path / "hotpot.json")


def test_eval_slice_on_the_default_model(tmp_path, default_model_dir):
    out = tmp_path / "run"
    data = hotpot_slice(tmp_path)
    args = ["eval", "--dataset", "hotpotqa", "--data", str(data), "--out", str(out), "--limit", "3", "--methods", "closed,rag"]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out / "predictions.jsonl")
    assert sorted((r["id"], r["method"]) for r in rows) == sorted((i, m) for i in {r["id"] for r in rows} for m in ("closed", "rag"))
    assert len(rows) == 6 and all(r["raw"] for r in rows)
    rag = [r for r in rows if r["method"] == "rag"]
    assert all(len(r["retrieved"]) == 3 and r["prediction"] == r["prediction"].strip() for r in rag)
    results = json.loads((out / "results.json").read_text())
    assert results["run"]["prompt"] == "cot" and results["retrieval"]["questions"] == 3
    assert {m["method"] for m in results["methods"]} == {"closed", "rag"}
    assert all(0 <= m["scores"]["paper"]["total"]["f1"] <= 100 for m in results["methods"])
    assert "| rag |" in result.output and (out / "f1_by_method.png").stat().st_size > 1000

"""The CLI contract: global options before the subcommand, --json fields, clear errors with exit code 2."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from prag.cli.main import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_add_build_status_ask_json(tiny_model_dir, facts_file, tmp_path):
    home = str(tmp_path / "cli-home")
    common = ["--home", home, "--collection", "facts", "--model", str(tiny_model_dir), "--recipe", "paper"]
    assert "added 3 document(s)" in run(*common, "add", str(facts_file)).output
    assert "3 newly encoded" in run(*common, "build").output
    status = run(*common, "status").output
    assert "collection facts" in status and "3" in status
    result = run(*common, "ask", "When was Velmora founded?", "--mode", "combine", "--top-k", "2", "--json")
    payload = json.loads(result.output)
    assert payload["mode"] == "combine" and payload["documents"][0] == "velmora" and len(payload["documents"]) == 2
    assert set(payload["timings"]) == {"retrieve", "load", "merge", "generate", "total"}
    assert isinstance(payload["answer"], str)


def test_errors_are_one_clear_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": \n')
    result = run("--home", str(tmp_path / "h"), "add", str(bad))
    assert result.exit_code == 2 and f"{bad}:2" in result.output and "Traceback" not in result.output
    result = run("--home", str(tmp_path / "h"), "ask", "Where?", "--mode", "rag")
    assert result.exit_code == 2 and "does not exist" in result.output
    result = run("--home", str(tmp_path / "h"), "--recipe", "nope", "status")
    assert result.exit_code == 2 and "unknown recipe" in result.output

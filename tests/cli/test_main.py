"""The CLI contract: global options before the subcommand, --json fields, clear errors with exit code 2."""

from __future__ import annotations

import json
import socket

import pytest

from typer.testing import CliRunner

from prag import Prag
from prag.cli.main import app
from prag.config import PAPER_RECIPE, Settings, parse_recipe
from prag.errors import InputError

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def one_message(result) -> str:
    """The output as one line: rich wraps a long message at the terminal's width."""
    return " ".join(result.output.split())


def test_add_build_status_ask_json(tiny_model_dir, facts_file, tmp_path):
    home = str(tmp_path / "cli-home")
    common = ["--home", home, "--collection", "facts", "--model", str(tiny_model_dir), "--recipe", "paper"]
    assert "added 3 document(s)" in run(*common, "add", str(facts_file)).output
    assert "3 newly encoded" in run(*common, "build").output
    status = run(*common, "status").output
    assert "collection facts" in status and "recipe paper" in status
    row = next(line for line in status.splitlines() if "yes" in line)  # documents, augmented, encoded, bytes, indexed
    documents, augmented, encoded, adapter_bytes = [cell.strip() for cell in row.strip("│ ").split("│")][:4]
    library = Prag(home, "facts", str(tiny_model_dir), Settings(recipe=PAPER_RECIPE)).status()
    assert (documents, augmented, encoded) == ("3", "3", "3") and adapter_bytes == f"{library.adapter_bytes:,}" != "0"
    # A changed field is another recipe: named by its spelling, its adapters not yet trained.
    changed = run(*common[:-1], "paper@learning_rate=1e-3", "--at-once", "status").output
    assert "recipe paper@learning_rate=1e-3" in " ".join(changed.split())
    assert "prompt short · BM25 top-3" in " ".join(changed.split())  # how answers are asked (the short prompt states at once already)
    assert Prag(home, "facts", str(tiny_model_dir), Settings(recipe=parse_recipe("paper@learning_rate=1e-3"))).status().encoded == 0
    result = run(*common, "ask", "When was Velmora founded?", "--mode", "combine", "--top-k", "2", "--json")
    payload = json.loads(result.output)
    assert payload["mode"] == "combine" and payload["documents"][0] == "velmora" and len(payload["documents"]) == 2
    assert set(payload["timings"]) == {"retrieve", "load", "merge", "generate", "total"}
    assert payload["parametric"] == payload["documents"]  # Combine injects what it also shows
    # The CLI answers what the library answers (greedy decoding), raw generation included.
    same = Prag(home, "facts", str(tiny_model_dir), Settings(recipe=PAPER_RECIPE)).ask("When was Velmora founded?", "combine", 2)
    assert (payload["answer"], payload["raw"]) == (same.text, same.raw)


def test_errors_are_one_clear_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": \n')
    result = run("--home", str(tmp_path / "h"), "add", str(bad))
    assert result.exit_code == 2 and f"{bad}:2" in result.output and "Traceback" not in result.output
    result = run("--home", str(tmp_path / "h"), "ask", "Where?", "--mode", "rag")
    assert result.exit_code == 2 and "does not exist" in result.output
    result = run("--home", str(tmp_path / "h"), "--recipe", "nope", "status")
    assert result.exit_code == 2 and "unknown recipe" in result.output
    result = run("--home", str(tmp_path / "h"), "--recipe", "paper@epochs=0", "status")
    assert result.exit_code == 2 and "epochs must be >= 1" in result.output


def test_ask_answers_a_file_of_questions_in_batches(tiny_model_dir, facts_file, tmp_path):
    home = str(tmp_path / "cli-home")
    common = ["--home", home, "--model", str(tiny_model_dir), "--recipe", "paper"]
    run(*common, "add", str(facts_file))
    run(*common, "build")
    plain = tmp_path / "questions.txt"
    plain.write_text("When was Velmora founded?\n\nWho runs Quillon Dynamics?\nHow tall is the clock tower?\n")
    result = run(*common, "ask", "--questions", str(plain), "--mode", "prag", "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [a["question"] for a in lines] == ["When was Velmora founded?", "Who runs Quillon Dynamics?", "How tall is the clock tower?"]
    assert [a["documents"][0] for a in lines] == ["velmora", "quillon", "brevik"] and lines[0]["batch_size"] == 3
    jsonl = tmp_path / "questions.jsonl"
    jsonl.write_text('{"question": "When was Velmora founded?", "answers": ["1843"]}\n')
    assert run(*common, "ask", "--questions", str(jsonl), "--mode", "rag").exit_code == 0


def test_ask_needs_exactly_one_question_source(tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("Where?\n")
    both = run("--home", str(tmp_path / "h"), "ask", "Where?", "--questions", str(questions))
    assert both.exit_code == 2 and "either a question or --questions" in both.output
    assert run("--home", str(tmp_path / "h"), "ask").exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "Where?"}\n')
    result = run("--home", str(tmp_path / "h"), "ask", "--questions", str(bad))
    assert result.exit_code == 2 and f"{bad}:1" in result.output


def test_serve_refuses_a_bad_port_or_token_file_before_opening_anything(tiny_model_dir, tmp_path):
    home = tmp_path / "h"
    serve = ["--home", str(home), "--model", str(tiny_model_dir), "serve"]
    out_of_range = run(*serve, "--port", "99999")
    assert out_of_range.exit_code == 2 and "65535" in out_of_range.output

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        in_use = run(*serve, "--port", str(port))
    assert in_use.exit_code == 2 and one_message(in_use) == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"

    directory = run(*serve, "--port", str(port), "--token-file", str(tmp_path))
    assert directory.exit_code == 2 and one_message(directory) == f"error: {tmp_path}: is a directory, not a token file"
    assert not home.exists()  # refused before the collection was opened, let alone the model loaded


def test_recipe_and_merge_default_to_the_models_own():
    from prag.cli.main import GlobalOptions

    options = GlobalOptions()
    options.model = "qwen-coder-0.5b"
    assert (options.settings().recipe.name, options.settings().answer.merge.label) == ("answer-format", "mean×0.5")
    options.recipe, options.merge = "paper", "sum"
    assert (options.settings().recipe.name, options.settings().answer.merge.label) == ("paper", "sum")
    options.model, options.recipe, options.merge = "default", None, None
    assert (options.settings().recipe.name, options.settings().answer.merge_label) == ("default", "score×0.5, combine mean×0.5")
    options.merge = "sum"  # --merge alone is every mode's merge
    assert options.settings().answer.merge_label == "sum"
    options.combine_merge = "mean"
    assert options.settings().answer.merge_label == "sum, combine mean"
    options.combine_merge = "mean:x"
    with pytest.raises(InputError, match="--combine-merge 'mean:x'"):
        options.settings()


def test_elicit_and_at_once_reach_the_answer_settings(tmp_path):
    from prag.cli import main

    for flags, elicit, at_once in ((["--elicit"], True, False), (["--at-once"], False, True), ([], False, False)):
        result = run("--home", str(tmp_path / "h"), *flags, "status")  # the global options are read before it fails
        answer = main.given.settings().answer
        assert "does not exist" in one_message(result) and (answer.elicit, answer.at_once) == (elicit, at_once)


def test_augment_model_writes_the_augmentations_and_status_names_it(tiny_model_dir, other_tiny_model_dir, facts_file, tmp_path):
    common = ["--home", str(tmp_path / "h"), "--model", str(tiny_model_dir), "--recipe", "paper"]
    by_other = [*common, "--augment-model", str(other_tiny_model_dir)]
    run(*common, "add", str(facts_file))
    assert "3 newly augmented, 3 newly encoded" in run(*by_other, "build").output
    assert "augmented by" in one_message(run(*by_other, "status"))  # the title names the writer (cut to the width here)
    # The answering model's own augmentations, and the adapters trained on them, are still to be made.
    assert "augmented by" not in one_message(run(*common, "status"))
    assert "3 newly augmented, 3 newly encoded" in run(*common, "build").output


def test_augment_questions_asks_per_sentence_apart_and_status_names_it(tiny_model_dir, facts_file, tmp_path):
    common = ["--home", str(tmp_path / "h"), "--model", str(tiny_model_dir), "--recipe", "paper"]
    per_sentence = [*common, "--augment-questions", "sentence"]
    run(*common, "add", str(facts_file))
    assert "3 newly augmented, 3 newly encoded" in run(*per_sentence, "build").output
    assert "QA pairs by sentence" in one_message(run(*per_sentence, "status"))
    # The worked-example pairs, and the adapters trained on them, are another set still to be made.
    assert "QA pairs by" not in one_message(run(*common, "status"))
    assert "3 newly augmented, 3 newly encoded" in run(*common, "build").output
    result = run(*common, "--augment-questions", "paragraph", "status")
    assert result.exit_code == 2 and "--augment-questions 'paragraph'" in one_message(result) and "sentence" in one_message(result)

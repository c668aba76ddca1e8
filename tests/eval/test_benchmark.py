"""`prag eval` end to end on the tiny random model: rows, resume, report from predictions alone, warm-up."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prag.api import Prag
from prag.eval import datasets
from prag.eval import report as reports
from prag.eval.benchmark import EvalRequest, encode_retrieved, parse_slice, run_eval, slice_argument
from prag.eval.controls import stand_ins
from prag.eval.warmup import run_warmup
from prag.cli.main import app
from prag.config import DEFAULT_RECIPE, AnswerConfig, AugmentConfig, Merge, Settings
from prag.engine.da_rag import augmented_passage
from prag.errors import InputError, NotBuiltError
from prag.eval.run import METHODS, parse_methods
from prag.store.adapters import AdapterStore, adapter_digest
from prag.store.files import read_jsonl
from prag.types import Augmentation, Document, Mode, QAPair

from tests.fixtures.facts import DEMO_FACTS, write_hotpot

FAST = Settings(
    recipe=replace(DEFAULT_RECIPE, epochs=1),
    augment=AugmentConfig(rewrite_tokens=8, qa_tokens_per_pair=4, max_attempts=1),
    answer=AnswerConfig(cot_max_new_tokens=8, sentence_tokens=6, max_rounds=2, batch_size=3),
)


@pytest.fixture
def hotpot_file(tmp_path) -> Path:
    return write_hotpot(tmp_path / "hotpot.json")


def evaluate(tiny_model_dir, hotpot_file, out, **changes) -> Path:
    request = EvalRequest("hotpotqa", hotpot_file, out, parse_methods(",".join(METHODS)), limit=4)
    return run_eval(replace(request, **changes), model=str(tiny_model_dir), settings=FAST)


def test_encoding_a_slice_ahead_answers_nothing_and_leaves_its_run_only_answering(tiny_model_dir, hotpot_file, tmp_path, monkeypatch):
    out = tmp_path / "run"
    request = EvalRequest("hotpotqa", hotpot_file, out, [Mode.PRAG, Mode.COMBINE], questions=(1, 3), top_k=2)
    saved: list[str] = []
    save = AdapterStore.save
    monkeypatch.setattr(AdapterStore, "save", lambda store, content_hash, *a, **k: saved.append(content_hash) or save(store, content_hash, *a, **k))
    retrieved = encode_retrieved(request, model=str(tiny_model_dir), settings=FAST)
    assert not out.exists() and 1 <= len(saved) <= retrieved <= 4  # no folder, no answer; what was retrieved is encoded
    encoded = len(saved)
    run_eval(request, model=str(tiny_model_dir), settings=FAST)
    assert len(saved) == encoded  # the run answered with the adapters made ahead, training none
    assert {r["id"] for r in read_jsonl(out / "predictions.jsonl")} == {"q1", "q2"}


def test_every_question_and_method_is_answered_once_and_a_rerun_resumes(tiny_model_dir, hotpot_file, tmp_path):
    out = tmp_path / "run"
    report = evaluate(tiny_model_dir, hotpot_file, out)
    rows = read_jsonl(out / "predictions.jsonl")
    assert len(rows) == 4 * len(METHODS)
    assert {(r["id"], r["method"]) for r in rows} == {(f"q{i}", m) for i in range(4) for m in METHODS}
    assert {r["init"] for r in rows if r["method"] in ("prag", "combine")} == {"random"}
    assert all(set(r["scores"]) == {"paper", "full"} and r["model"] == str(tiny_model_dir) for r in rows)
    assert all(len(r["retrieved"]) == 3 for r in rows if r["method"] in ("rag", "da-rag", "prag", "combine"))
    for name in ("results.json", "report.md", "f1_by_method.png", "latency_by_stage.png", "retrieval.jsonl"):
        assert (out / name).is_file()
    assert "| prag |" in report.read_text() and "bridge" in report.read_text()

    # Interrupted mid-append: the last rows are lost and a torn line is left; the rerun redoes just those.
    lines = (out / "predictions.jsonl").read_text().splitlines(keepends=True)
    (out / "predictions.jsonl").write_text("".join(lines[:-2]) + lines[-2][:20])
    evaluate(tiny_model_dir, hotpot_file, out)
    again = read_jsonl(out / "predictions.jsonl")
    assert len(again) == len(rows) and {(r["id"], r["method"]) for r in again} == {(r["id"], r["method"]) for r in rows}
    # A longer slice adds only the new questions.
    report = evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.CLOSED, Mode.PRAG], limit=6)
    assert len(read_jsonl(out / "predictions.jsonl")) == len(rows) + 2 * 2
    assert "different numbers of questions (4, 6)" in report.read_text()


def test_report_is_rebuilt_from_the_folder_alone_and_recall_is_measured(tiny_model_dir, hotpot_file, tmp_path):
    out = tmp_path / "run"
    evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.CLOSED, Mode.RAG])
    results = json.loads((out / "results.json").read_text())
    for name in ("results.json", "report.md", "f1_by_method.png"):
        (out / name).unlink()
    reports.write(out)
    assert json.loads((out / "results.json").read_text()) == results
    recall = read_jsonl(out / "retrieval.jsonl")
    # Three paragraphs, top-3: every gold paragraph is retrieved.
    assert [r["recall"] for r in recall] == [1.0] * 4 and results["retrieval"]["gold_recall"] == 100.0
    by_type = results["retrieval"]["by_type"]
    assert {t: (r["questions"], r["gold_recall"]) for t, r in by_type.items()} == {"bridge": (3, 100.0), "comparison": (1, 100.0)}
    rag = next(m for m in results["methods"] if m["method"] == "rag")
    assert rag["questions"] == 4 and set(rag["scores"]["paper"]["by_type"]) == {"bridge", "comparison"}
    closed = next(m for m in results["methods"] if m["method"] == "closed")
    assert (rag["retrievals_per_question"], closed["retrievals_per_question"]) == (1.0, 0.0)
    table = reports.render_combined([reports.summarize(out), reports.summarize(out)])
    assert "| hotpotqa bridge | hotpotqa comparison | hotpotqa Total |" in table and "| rag |" in table
    assert "union of the benchmark file's context paragraphs" in (out / "report.md").read_text()
    # A batch appended twice (two runs on one folder at once) counts once.
    lines = (out / "predictions.jsonl").read_text().splitlines(keepends=True)
    with (out / "predictions.jsonl").open("a") as f:
        f.writelines(lines[:3])
    reports.write(out)
    assert json.loads((out / "results.json").read_text()) == results
    # Recall per question type is read from the folder's retrieval rows: one comparison question missing a gold paragraph.
    rows = [r | {"recall": 0.5, "all_gold": False} if r["type"] == "comparison" else r for r in read_jsonl(out / "retrieval.jsonl")]
    (out / "retrieval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    reports.write(out)
    by_type = json.loads((out / "results.json").read_text())["retrieval"]["by_type"]
    assert (by_type["comparison"]["gold_recall"], by_type["comparison"]["all_gold_retrieved"], by_type["bridge"]["gold_recall"]) == (50.0, 0.0, 100.0)
    assert "comparison 50.0 % (all 0.0 %, 1 questions)" in (out / "report.md").read_text()


def test_recall_is_not_measured_against_a_corpus_of_other_passages(tiny_model_dir, hotpot_file, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"mine-{d['id']}", "title": d["title"], "text": d["text"]}) + "\n" for d in DEMO_FACTS))
    out = tmp_path / "run"
    evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.RAG], limit=2, corpus=corpus)
    recall = read_jsonl(out / "retrieval.jsonl")
    assert [r["recall"] for r in recall] == [None, None] and all(r["retrieved"][0].startswith("mine-") for r in recall)
    report = (out / "report.md").read_text()
    assert "passed with --corpus" in report and "recall is not measured" in report


def test_answer_aliases_belong_to_the_run(tiny_model_dir, tmp_path):
    """2Wiki's id_aliases.json adds golds: rows scored with and without it must not share a folder."""
    data = tmp_path / "2wiki" / "dev.json"
    data.parent.mkdir()
    context = [[d["title"], [d["text"]]] for d in DEMO_FACTS]
    records = [{"_id": "w0", "question": "When was Velmora founded?", "answer": "1843", "answer_id": "Q1", "type": "inference",
                "context": context, "supporting_facts": [[DEMO_FACTS[0]["title"], 0]]}]
    data.write_text(json.dumps(records))
    out = tmp_path / "run"
    request = EvalRequest("2wikimultihopqa", data, out, [Mode.CLOSED], prompt="short")
    run_eval(request, model=str(tiny_model_dir), settings=FAST)
    assert json.loads((out / "run.json").read_text())["aliases_sha256"] == ""
    (data.parent / "id_aliases.json").write_text(json.dumps({"Q_id": "Q1", "aliases": ["the year 1843"]}) + "\n")
    with pytest.raises(InputError, match="aliases_sha256"):
        run_eval(request, model=str(tiny_model_dir), settings=FAST)
    rows = read_jsonl(run_eval(replace(request, out=tmp_path / "aliased"), model=str(tiny_model_dir), settings=FAST).parent / "predictions.jsonl")
    assert rows[0]["golds"] == ["1843", "the year 1843"]


def test_compare_pairs_two_folders_on_the_questions_both_answered(tiny_model_dir, hotpot_file, tmp_path):
    evaluate(tiny_model_dir, hotpot_file, tmp_path / "a", methods=[Mode.CLOSED, Mode.RAG])
    evaluate(tiny_model_dir, hotpot_file, tmp_path / "b", methods=[Mode.CLOSED], limit=3)
    # Greedy decoding of one model: the same method in two folders agrees on every shared question.
    result = reports.compare((tmp_path / "a", "closed", None), (tmp_path / "b", "closed", None))
    same = result["by_protocol"]["paper"]
    assert same["difference"]["n"] == 3 and same["difference"]["delta"] == 0.0 and same["first"] == same["second"]
    assert result["questions"] == 3 and result["changed"] == 0
    f1 = {(r["id"], r["method"]): r["scores"]["full"]["f1"] for r in read_jsonl(tmp_path / "a" / "predictions.jsonl")}
    diffs = [f1[q, "rag"] - f1[q, "closed"] for q in ("q0", "q1", "q2")]
    against = reports.compare((tmp_path / "a", "rag", None), (tmp_path / "b", "closed", None))
    raw = {(r["id"], r["method"]): r["raw"] for r in read_jsonl(tmp_path / "a" / "predictions.jsonl")}
    assert against["changed"] == sum(raw[q, "rag"] != raw[q, "closed"] for q in ("q0", "q1", "q2"))
    against = against["by_protocol"]["full"]["difference"]
    assert against["delta"] == pytest.approx(100 * sum(diffs) / 3)
    assert against["wins"] == sum(d > 0 for d in diffs) and against["losses"] == sum(d < 0 for d in diffs)
    # Split by question type: q0 and q1 are bridge questions, q2 the only comparison one (no interval).
    by_type = reports.compare((tmp_path / "a", "rag", None), (tmp_path / "b", "closed", None))["by_type"]
    assert sorted(by_type) == ["bridge", "comparison"]
    assert by_type["bridge"]["full"]["difference"]["delta"] == pytest.approx(100 * sum(diffs[:2]) / 2)
    assert by_type["comparison"]["full"]["difference"] is None and by_type["comparison"]["full"]["first"]["n"] == 1

    other = tmp_path / "other.json"
    other.write_text(json.dumps(json.loads(hotpot_file.read_text())[1:]))
    evaluate(tiny_model_dir, other, tmp_path / "c", methods=[Mode.CLOSED], limit=2)
    with pytest.raises(InputError, match="different benchmark files"):
        reports.compare((tmp_path / "a", "closed", None), (tmp_path / "c", "closed", None))

    result = CliRunner().invoke(app, ["compare", f"{tmp_path / 'a'}:rag", f"{tmp_path / 'b'}:closed@warmup"])
    assert result.exit_code == 2 and "init warmup" in result.output
    result = CliRunner().invoke(app, ["compare", f"{tmp_path / 'a'}:rag", f"{tmp_path / 'b'}:closed"])
    assert result.exit_code == 0 and "won / lost" in result.output
    result = CliRunner().invoke(app, ["compare", "--by-type", f"{tmp_path / 'a'}:rag", f"{tmp_path / 'b'}:closed"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "comparison" in result.output and "bridge" in result.output


def test_a_folder_kept_with_its_scores_alone_compares_and_pools_as_its_predictions(tiny_model_dir, hotpot_file, tmp_path):
    """bench/scores/ keeps run.json and scores.jsonl, which hold no question, gold or generation; a run
    in two slices pools into one comparison."""
    whole, first, second = tmp_path / "whole", tmp_path / "first", tmp_path / "second"
    for out, span in ((whole, (0, 4)), (first, (0, 2)), (second, (2, 4))):
        evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.CLOSED, Mode.RAG], limit=None, questions=span)
    scores = read_jsonl(whole / "scores.jsonl")
    assert sorted((r["id"], r["method"]) for r in scores) == [(f"q{i}", m) for i in range(4) for m in ("closed", "rag")]
    assert not {"question", "golds", "raw", "prediction"} & {k for r in scores for k in r}
    assert all("answer" not in s for r in scores for s in r["scores"].values())

    kept = tmp_path / "kept"
    kept.mkdir()
    for name in ("run.json", "scores.jsonl"):
        (kept / name).write_bytes((whole / name).read_bytes())
    expected = reports.compare((whole, "rag", None), (whole, "closed", None))
    assert reports.compare((kept, "rag", None), (whole, "closed", None)) == expected
    assert reports.compare(([first, second], "rag", None), (kept, "closed", None)) == expected

    with pytest.raises(InputError, match="twice"):
        reports.compare(([first, whole], "rag", None), (whole, "closed", None))
    other = tmp_path / "other"
    evaluate(tiny_model_dir, hotpot_file, other, methods=[Mode.CLOSED], limit=None, questions=(2, 4), top_k=1)
    with pytest.raises(InputError, match="top_k"):
        reports.compare(([first, other], "closed", None), (whole, "closed", None))
    result = CliRunner().invoke(app, ["compare", f"{first},{second}:rag", f"{kept}:closed"])
    assert result.exit_code == 0 and f"Generations that differ: {expected['changed']} of 4" in result.output
    # A report needs predictions: asked of a kept folder it says so, and the kept scores stay as they were.
    before = (kept / "scores.jsonl").read_bytes()
    result = CliRunner().invoke(app, ["report", str(kept)])
    assert result.exit_code != 0 and "scores alone" in result.output
    assert (kept / "scores.jsonl").read_bytes() == before and sorted(p.name for p in kept.iterdir()) == ["run.json", "scores.jsonl"]


def test_a_different_experiment_in_the_same_folder_is_refused(tiny_model_dir, hotpot_file, tmp_path):
    out = tmp_path / "run"
    evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.CLOSED])
    with pytest.raises(InputError, match="top_k"):
        evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.CLOSED], top_k=2)
    # Another generation setting (or edited worked examples) would make the stored rows stale too.
    longer = replace(FAST, answer=replace(FAST.answer, cot_max_new_tokens=9))
    request = EvalRequest("hotpotqa", hotpot_file, out, [Mode.CLOSED], limit=4)
    with pytest.raises(InputError, match="answer_digest"):
        run_eval(request, model=str(tiny_model_dir), settings=longer)
    # A batch size changes no answer.
    run_eval(request, model=str(tiny_model_dir), settings=replace(FAST, answer=replace(FAST.answer, batch_size=2)))
    # Another merge of the adapters is another experiment, named in the folder and on every row.
    mean = replace(FAST, answer=replace(FAST.answer, merge=Merge("mean")))
    with pytest.raises(InputError, match="merge"):
        run_eval(request, model=str(tiny_model_dir), settings=mean)
    other = run_eval(replace(request, out=tmp_path / "mean", methods=[Mode.PRAG]), model=str(tiny_model_dir), settings=mean)
    assert {r["merge"] for r in read_jsonl(other.parent / "predictions.jsonl")} == {"mean"}
    assert "merge mean" in other.read_text().splitlines()[0]


def test_a_shared_merge_records_its_estimate_and_refuses_to_mix_estimates(tiny_model_dir, hotpot_file, tmp_path):
    centred = replace(FAST, answer=replace(FAST.answer, merge=Merge("mean", shared=0)))
    request = EvalRequest("hotpotqa", hotpot_file, tmp_path / "run", [Mode.PRAG], limit=2)
    run_eval(request, model=str(tiny_model_dir), settings=centred)
    rows = read_jsonl(tmp_path / "run" / "predictions.jsonl")
    recorded = {json.dumps(r["shared_component"]) for r in rows}
    assert len(rows) == 2 and len(recorded) == 1 and rows[0]["merge"] == "mean+shared:0"
    assert rows[0]["shared_component"]["adapters"] == 3 and 0 < rows[0]["shared_component"]["energy_kept"] <= 1
    kept = read_jsonl(tmp_path / "run" / "scores.jsonl")  # what bench/scores keeps says which estimate too
    assert {r["id"]: r["shared_component"] for r in kept} == {r["id"]: r["shared_component"] for r in rows}
    run_eval(replace(request, limit=4), model=str(tiny_model_dir), settings=centred)  # the same estimate: resumed
    # Rows whose estimate averaged other adapters (as when more were encoded since) are not joined.
    predictions = tmp_path / "run" / "predictions.jsonl"
    lines = predictions.read_text().splitlines()
    earlier = json.loads(lines[0]) | {"shared_component": {"adapters": 2, "energy_kept": 1.0}}
    predictions.write_text("\n".join([json.dumps(earlier), *lines[1:]]) + "\n")
    with pytest.raises(InputError, match="shared part estimated from other adapters"):
        run_eval(replace(request, limit=4), model=str(tiny_model_dir), settings=centred)


def test_warm_up_adapters_start_elsewhere_and_are_reported_as_an_ablation(tiny_model_dir, hotpot_file, tmp_path):
    with pytest.raises(Exception, match="prag warmup"):
        evaluate(tiny_model_dir, hotpot_file, tmp_path / "run", methods=[Mode.PRAG], init="warmup")
    warmup = run_warmup("hotpotqa", hotpot_file, skip_first=4, count=10, model=str(tiny_model_dir), settings=FAST)
    # A rerun of the same command keeps it; a retrain (seeded) makes the same adapter again.
    again = run_warmup("hotpotqa", hotpot_file, skip_first=4, count=10, model=str(tiny_model_dir), settings=FAST)
    assert warmup.trained and not again.trained and again.digest == warmup.digest
    retrained = run_warmup("hotpotqa", hotpot_file, skip_first=4, count=10, model=str(tiny_model_dir), settings=FAST, retrain=True)
    assert retrained.trained and retrained.digest == warmup.digest
    warmups = Prag(collection="warmup", model=str(tiny_model_dir), settings=FAST).runtime.warmups
    stored = warmups.load(warmups.record("hotpotqa", FAST.recipe)["digest"])
    assert adapter_digest(stored) == warmup.digest
    out = tmp_path / "run"
    evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.PRAG, Mode.RAG])
    evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.PRAG, Mode.RAG], init="warmup")
    rows = read_jsonl(out / "predictions.jsonl")
    assert sorted((r["method"], r["init"]) for r in rows if r["id"] == "q0") == [("prag", "random"), ("prag", "warmup"), ("rag", "-")]
    recipes = {r["init"]: r["recipe_hash"] for r in rows if r["method"] == "prag"}
    assert recipes["random"] != recipes["warmup"]
    assert "Adapter initialisation" in (out / "report.md").read_text()
    meta = json.loads(next((Path(tmp_path / "home") / "warmups").rglob("prag_meta.json")).read_text())
    assert meta["questions"] == [4, 6] and len(warmup.digest) == 16

    # Never evaluated on the questions it was trained on, even from another file of the benchmark.
    with pytest.raises(InputError, match="trained on 1 of the 5 evaluated"):
        evaluate(tiny_model_dir, hotpot_file, tmp_path / "longer", methods=[Mode.PRAG], init="warmup", limit=5)
    reversed_file = tmp_path / "reversed.json"
    reversed_file.write_text(json.dumps(json.loads(hotpot_file.read_text())[::-1]))
    run_warmup("hotpotqa", reversed_file, skip_first=0, count=3, model=str(tiny_model_dir), settings=FAST)
    with pytest.raises(InputError, match="trained on 1 of the 4 evaluated"):
        evaluate(tiny_model_dir, hotpot_file, tmp_path / "other-file", methods=[Mode.PRAG], init="warmup")
    # A retrained warm-up makes other adapters: its rows do not join the old ones in a folder.
    run_warmup("hotpotqa", reversed_file, skip_first=0, count=1, model=str(tiny_model_dir), settings=FAST)
    with pytest.raises(InputError, match="other adapters"):
        evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.PRAG], init="warmup")
    # Never picked up by a run of another recipe.
    other_recipe = replace(FAST, recipe=replace(FAST.recipe, learning_rate=3e-4))
    request = EvalRequest("hotpotqa", hotpot_file, tmp_path / "other", [Mode.PRAG], limit=4, init="warmup")
    with pytest.raises(Exception, match="prag warmup"):
        run_eval(request, model=str(tiny_model_dir), settings=other_recipe)


def test_bad_prompts_are_refused_before_a_run_folder_is_written(tiny_model_dir, hotpot_file, tmp_path):
    with pytest.raises(InputError, match="unknown prompt"):
        evaluate(tiny_model_dir, hotpot_file, tmp_path / "a", prompt="long")
    popqa = tmp_path / "popqa.jsonl"
    popqa.write_text(json.dumps({"question": "Who?", "golden_answers": ["X"]}) + "\n")
    with pytest.raises(InputError, match="--prompt short"):
        run_eval(EvalRequest("popqa", popqa, tmp_path / "b", [Mode.CLOSED], prompt="cot"), model=str(tiny_model_dir), settings=FAST)
    with pytest.raises(InputError, match="--top-k"):
        evaluate(tiny_model_dir, hotpot_file, tmp_path / "c", top_k=0)
    assert not any((tmp_path / name).exists() for name in "abc")


def test_a_slice_evaluates_exactly_its_questions(tiny_model_dir, hotpot_file, tmp_path):
    """Settings are chosen on one slice and reported on another: a run must touch only its own questions."""
    out = tmp_path / "dev"
    evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.CLOSED], limit=None, questions=parse_slice("2:5"))
    rows = read_jsonl(out / "predictions.jsonl")
    assert sorted(r["id"] for r in rows) == ["q2", "q3", "q4"]
    assert sorted(r["id"] for r in read_jsonl(out / "retrieval.jsonl")) == ["q2", "q3", "q4"]
    for bad, message in (("5:2", "END above START"), ("a:b", "START:END"), ("3", "START:END")):
        with pytest.raises(InputError, match=message):
            evaluate(tiny_model_dir, hotpot_file, tmp_path / "bad", methods=[Mode.CLOSED], limit=None, questions=parse_slice(bad))
    with pytest.raises(InputError, match="not both"):
        evaluate(tiny_model_dir, hotpot_file, tmp_path / "both", methods=[Mode.CLOSED], questions=(0, 2))
    with pytest.raises(InputError, match="no questions in the slice"):
        evaluate(tiny_model_dir, hotpot_file, tmp_path / "past", methods=[Mode.CLOSED], limit=None, questions=(50, 60))
    assert not (tmp_path / "bad").exists() and not (tmp_path / "both").exists()
    # A dev slice and a test slice never share a folder, so no report mixes them.
    with pytest.raises(InputError, match="questions"):
        evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.CLOSED], limit=None, questions=(0, 2))
    with pytest.raises(InputError, match="questions"):
        evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.CLOSED], limit=2)


def test_folders_of_an_older_prag_are_one_line_errors(tiny_model_dir, hotpot_file, tmp_path):
    out = tmp_path / "old"
    evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.CLOSED], limit=2)
    stored = json.loads((out / "run.json").read_text())
    del stored["merge"]
    (out / "run.json").write_text(json.dumps(stored))
    for call in (lambda: reports.write(out), lambda: evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.CLOSED], limit=2)):
        with pytest.raises(InputError, match="older prag"):
            call()
    (out / "run.json").write_text("{not json")
    with pytest.raises(InputError, match="damaged"):
        reports.write(out)


def test_an_elicited_run_says_so_and_folders_from_before_the_field_read_as_unelicited(tiny_model_dir, hotpot_file, tmp_path):
    elicited = replace(FAST, answer=replace(FAST.answer, elicit=True))
    request = EvalRequest("hotpotqa", hotpot_file, tmp_path / "e", [Mode.CLOSED], limit=2)
    run_eval(request, model=str(tiny_model_dir), settings=elicited)
    assert json.loads((tmp_path / "e" / "run.json").read_text())["elicit"] is True
    assert "prompt cot (elicited)" in (tmp_path / "e" / "report.md").read_text()
    out = tmp_path / "old"
    evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.CLOSED], limit=2)
    stored = json.loads((out / "run.json").read_text())
    assert stored.pop("elicit") is False
    (out / "run.json").write_text(json.dumps(stored))  # as kept before the field existed
    evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.CLOSED], limit=3)  # resumes: the same experiment
    assert len(read_jsonl(out / "predictions.jsonl")) == 3 and "elicited" not in (out / "report.md").read_text()
    with pytest.raises(InputError, match="elicit"):  # while an elicited run may not join it
        run_eval(replace(request, out=out, limit=3), model=str(tiny_model_dir), settings=elicited)


def test_a_run_stated_at_once_says_so_and_its_answers_follow_the_lead(tiny_model_dir, hotpot_file, tmp_path):
    at_once = replace(FAST, answer=replace(FAST.answer, at_once=True))
    request = EvalRequest("hotpotqa", hotpot_file, tmp_path / "a", [Mode.CLOSED, Mode.RAG], limit=2)
    run_eval(request, model=str(tiny_model_dir), settings=at_once)
    assert json.loads((tmp_path / "a" / "run.json").read_text())["at_once"] is True
    assert "prompt cot (stated at once)" in (tmp_path / "a" / "report.md").read_text()
    rows = read_jsonl(tmp_path / "a" / "predictions.jsonl")
    assert len(rows) == 4 and all(row["raw"].startswith(" So the answer is") and row["at_once"] for row in rows)
    with pytest.raises(InputError, match="at_once"):  # a run that reasons first may not join it
        run_eval(replace(request, limit=3), model=str(tiny_model_dir), settings=FAST)


def test_closed_corpus_needs_passages_or_a_corpus_file(tiny_model_dir, tmp_path):
    qa = tmp_path / "dev.json"
    qa.write_text(json.dumps([{"test_id": 0, "question": "Who?", "answer": ["X"]}]))
    with pytest.raises(InputError, match="--corpus"):
        run_eval(EvalRequest("2wikimultihopqa", qa, tmp_path / "o", [Mode.RAG]), model=str(tiny_model_dir), settings=FAST)
    run_eval(EvalRequest("2wikimultihopqa", qa, tmp_path / "o", [Mode.CLOSED]), model=str(tiny_model_dir), settings=FAST)
    assert "not measured" in (tmp_path / "o" / "report.md").read_text()


def test_da_rag_context_carries_the_augmentations():
    doc = Document("d", "Velmora was founded in 1843.", "Velmora")
    aug = Augmentation(("Velmora dates from 1843.",), (QAPair("When was Velmora founded?", "1843"),), 1)
    text = augmented_passage(doc, aug)
    assert text.splitlines() == [
        "Velmora: Velmora was founded in 1843.",
        "Rewritten: Velmora dates from 1843.",
        "Q: When was Velmora founded? A: 1843",
    ]
    assert augmented_passage(doc, None) == doc.passage


def test_cli_errors(tmp_path, hotpot_file):
    runner = CliRunner()
    result = runner.invoke(app, ["eval", "--dataset", "hotpotqa", "--data", str(hotpot_file), "--out", str(tmp_path / "o"), "--methods", "rag,magic"])
    assert result.exit_code == 2 and "magic" in " ".join(result.output.split())
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2 and "not an evaluation folder" in " ".join(result.output.split())
    args = ["eval", "--dataset", "hotpotqa", "--data", str(hotpot_file), "--out", str(tmp_path / "c"), "--methods", "prag"]
    result = runner.invoke(app, [*args, "--controls", "foreign,shuffled"])
    assert result.exit_code == 2 and "shuffled" in " ".join(result.output.split()) and not (tmp_path / "c").exists()


def test_cli_eval_takes_its_own_model_and_a_default_folder(tiny_model_dir, hotpot_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["eval", "--dataset", "hotpotqa", "--data", str(hotpot_file), "--limit", "1", "--methods", "closed", "--prompt", "short"]
    result = CliRunner().invoke(app, [*args, "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    rows = read_jsonl(tmp_path / "runs" / f"hotpotqa-{tiny_model_dir.name}" / "predictions.jsonl")
    assert [(r["id"], r["model"]) for r in rows] == [("q0", str(tiny_model_dir))]


def test_a_warm_up_for_a_recipe_trained_in_the_answer_prompt_is_found_by_the_evaluation(tiny_model_dir, hotpot_file, tmp_path):
    # The recipe keys its adapters by the prompt answers are asked in (chain of thought on HotpotQA), so
    # the warm-up must train in that prompt too, whatever the settings it was given said.
    in_answer_prompt = replace(FAST, recipe=replace(FAST.recipe, prompt="answer"))
    run_warmup("hotpotqa", hotpot_file, skip_first=4, count=3, model=str(tiny_model_dir), settings=in_answer_prompt)
    request = EvalRequest("hotpotqa", hotpot_file, tmp_path / "run", [Mode.PRAG], limit=2, init="warmup")
    run_eval(request, model=str(tiny_model_dir), settings=in_answer_prompt)
    assert {r["init"] for r in read_jsonl(tmp_path / "run" / "predictions.jsonl")} == {"warmup"}
    short = EvalRequest("hotpotqa", hotpot_file, tmp_path / "short", [Mode.PRAG], limit=2, init="warmup", prompt="short")
    with pytest.raises(NotBuiltError, match="prag warmup"):
        run_eval(short, model=str(tiny_model_dir), settings=in_answer_prompt)


def test_an_evidence_warm_up_trains_on_the_supporting_sentences(tiny_model_dir, hotpot_file, tmp_path):
    cot = replace(FAST, recipe=replace(FAST.recipe, prompt="answer"))
    evidence = replace(cot, recipe=replace(cot.recipe, warmup_target="evidence"))
    plain = run_warmup("hotpotqa", hotpot_file, skip_first=4, count=3, model=str(tiny_model_dir), settings=cot)
    chained = run_warmup("hotpotqa", hotpot_file, skip_first=4, count=3, model=str(tiny_model_dir), settings=evidence)
    assert plain.trained and chained.trained and plain.digest != chained.digest
    bare = json.loads(hotpot_file.read_text())
    for record in bare:
        record["supporting_facts"] = []
    hotpot_file.write_text(json.dumps(bare))
    with pytest.raises(InputError, match="no supporting sentences"):
        run_warmup("hotpotqa", hotpot_file, skip_first=4, count=3, model=str(tiny_model_dir), settings=evidence, retrain=True)


def test_a_benchmark_script_reports_a_bad_slice_as_a_usage_error():
    """bench/*.py take `--slice` through argparse, which shows its usage line only for its own error type."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--slice", type=slice_argument)
    assert parser.parse_args(["--slice", "100:150"]).slice == (100, 150)
    for bad in ("150:100", "a:b"):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args(["--slice", bad])
        assert exit_.value.code == 2


def test_controls_answer_with_stand_in_adapters_and_report_what_the_own_ones_add(tiny_model_dir, hotpot_file, tmp_path):
    """`--controls`: each adapter method again with the warm-up in place of every adapter (`start`) and with
    the next question's adapters (`foreign`), rows of their own, and the paired Δ of own against control."""
    with pytest.raises(InputError, match="needs --init warmup"):
        evaluate(tiny_model_dir, hotpot_file, tmp_path / "a", methods=[Mode.PRAG], controls=("start",))
    with pytest.raises(InputError, match="unknown control"):
        evaluate(tiny_model_dir, hotpot_file, tmp_path / "b", methods=[Mode.PRAG], controls=("shuffled",))
    with pytest.raises(InputError, match="evaluate prag or combine"):
        evaluate(tiny_model_dir, hotpot_file, tmp_path / "c", methods=[Mode.RAG], controls=("foreign",))
    assert not any((tmp_path / name).exists() for name in "abc")

    run_warmup("hotpotqa", hotpot_file, skip_first=4, count=3, model=str(tiny_model_dir), settings=FAST)
    out = tmp_path / "run"
    evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.RAG, Mode.PRAG, Mode.COMBINE], init="warmup", controls=("start", "foreign"))
    rows = read_jsonl(out / "predictions.jsonl")
    assert sorted(r["init"] for r in rows if r["id"] == "q0" and r["method"] == "combine") == ["warmup", "warmup/foreign", "warmup/start"]
    assert all(r["retrieved"] == own["retrieved"] for r in rows for own in rows if (own["id"], own["method"]) == (r["id"], "rag"))
    results = json.loads((out / "results.json").read_text())
    controlled = {(m["method"], m["init"]): m["own_vs_control"]["paper"] for m in results["methods"] if "own_vs_control" in m}
    assert set(controlled) == {(m, f"warmup/{c}") for m in ("prag", "combine") for c in ("start", "foreign")}
    # The report's Δ is `prag compare`'s, own adapters against the control on the same questions.
    compared = reports.compare(reports.parse_side(f"{out}:combine@warmup"), reports.parse_side(f"{out}:combine@warmup/foreign"))
    assert controlled["combine", "warmup/foreign"]["delta"] == pytest.approx(compared["by_protocol"]["paper"]["difference"]["delta"])
    report = (out / "report.md").read_text()
    assert "Controls" in report and "| combine (warmup init, start control) |" in report
    with pytest.raises(InputError, match="unknown init"):
        reports.parse_side(f"{out}:combine@warmup/shuffled")
    # A rerun resumes: every control row is there already.
    before = len(rows)
    evaluate(tiny_model_dir, hotpot_file, out, methods=[Mode.RAG, Mode.PRAG, Mode.COMBINE], init="warmup", controls=("start", "foreign"))
    assert len(read_jsonl(out / "predictions.jsonl")) == before


def test_the_stand_ins_are_the_warm_up_and_the_next_questions_adapters(tiny_model_dir, hotpot_file, tmp_path):
    evaluate(tiny_model_dir, hotpot_file, tmp_path / "run", methods=[Mode.PRAG])
    collection = next(p.name for p in (tmp_path / "home" / "collections").iterdir() if p.name.startswith("eval-hotpotqa-"))
    engine = Prag(collection=collection, model=str(tiny_model_dir), settings=FAST).engine
    examples = datasets.load("hotpotqa", hotpot_file).examples[:3]
    retrieved = {r["id"]: r["retrieved"] for r in read_jsonl(tmp_path / "run" / "retrieval.jsonl")}
    foreign = stand_ins("foreign", engine, None, examples, retrieved)
    own = [engine.documents[i] for i in retrieved["q0"]]
    for i, example in enumerate(examples):
        neighbour = [engine.documents[d] for d in retrieved[examples[(i + 1) % 3].id]]
        expected = [adapter_digest(a) for a in engine.load_adapters(neighbour)]
        assert [adapter_digest(a) for a in foreign(example.question, own)] == expected
    start = engine.load_adapters(own)[0]
    assert stand_ins("start", engine, start, examples, retrieved)("any question", own) == [start] * 3
    with pytest.raises(InputError, match="warm-started"):
        stand_ins("start", engine, None, examples, retrieved)
    with pytest.raises(InputError, match="at least two"):
        stand_ins("foreign", engine, None, examples[:1], retrieved)

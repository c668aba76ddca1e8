"""Results, report and plots, computed from a run folder's files alone (`prag report DIR`)."""

from __future__ import annotations

import hashlib
import random
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Callable

from prag.config import INIT_KINDS, answering_label
from prag.errors import InputError
from prag.eval.metrics import PROTOCOLS
from prag.eval.records import CONTROLS, NO_INIT, control_of, row_key, score_generation
from prag.eval.run import METHODS, PREDICTIONS, RETRIEVAL, differing_fields, read_run
from prag.store.files import read_jsonl, write_json_atomic, write_jsonl_atomic

PROTOCOL = "paper"
"""The protocol of the headline tables (the paper's); `full` is reported beside it."""
BOOTSTRAP_SAMPLES = 1000
STAGES = ("retrieve", "load", "merge", "generate")
SCORES = "scores.jsonl"
"""Each question's scores under each protocol, with a digest of its generation but without its question,
golds or generation: small and free of the benchmark's text, so a run folder's run.json and scores.jsonl
can be kept in the repository (bench/scores/) and compared or pooled later without its predictions."""


def write(out: Path) -> Path:
    """Writes results.json, report.md, scores.jsonl and the PNG plots; returns the report's path."""
    run = _read_reportable_run(out)
    rows = _scored_rows(out, run)
    results = _summary(out, run, rows)
    write_json_atomic(out / "results.json", results)
    _plot_f1(results, out / "f1_by_method.png")
    _plot_latency(results, out / "latency_by_stage.png")
    write_jsonl_atomic(out / SCORES, [_score_row(r) for r in rows])
    path = out / "report.md"
    path.write_text(render(results), encoding="utf-8")
    return path


def _score_row(row: dict) -> dict:
    scores = {p: {"em": s["em"], "f1": s["f1"]} for p, s in row["scores"].items()}
    kept = {"id": row["id"], "method": row["method"], "init": row["init"], "type": row["type"], "raw_sha256": _raw_digest(row), "scores": scores}
    # A +shared merge's answers depend on which adapters its shared part averaged: kept with them.
    if "shared_component" in row:
        kept["shared_component"] = row["shared_component"]
    return kept


def _raw_digest(row: dict) -> str:
    """What tells two generations apart: the stored digest of a scores-only row, or the generation's."""
    return row.get("raw_sha256") or hashlib.sha256(row["raw"].encode()).hexdigest()[:16]


def summarize(out: Path) -> dict:
    run = _read_reportable_run(out)
    return _summary(out, run, _scored_rows(out, run))


def _summary(out: Path, run: dict, rows: list[dict]) -> dict:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[row["method"], row["init"]].append(row)
    types = sorted({row["type"] for row in rows})
    baseline = {r["id"]: r for r in groups.get(("rag", NO_INIT), [])}
    methods = []
    for (method, init), members in sorted(groups.items(), key=lambda kv: (_order(kv[0][0]), kv[0][1])):
        summary = _method_summary(method, init, members, types, baseline)
        base, control = control_of(init)
        if control:
            summary["own_vs_control"] = _own_against(groups.get((method, base), []), members)
        methods.append(summary)
    return {"run": run, "types": types, "methods": methods, "retrieval": _retrieval(read_jsonl(out / RETRIEVAL), run)}


def _read_run(out: Path) -> dict:
    return read_run(out)


def _read_reportable_run(out: Path) -> dict:
    """A report is made from predictions: a folder kept with its scores alone has none, and writing its
    report would overwrite the kept scores with those of no predictions."""
    run = _read_run(out)
    if not (out / PREDICTIONS).is_file() and (out / SCORES).is_file():
        raise InputError(f"{out} is kept with its scores alone (no {PREDICTIONS}): `prag compare` reads it; a report needs the predictions")
    return run


def _distinct(rows: list[dict]) -> list[dict]:
    """The first row of each question × method × init: two runs writing one folder at once (or a batch
    appended twice) must not count a question twice."""
    seen: dict[tuple[str, str, str], dict] = {}
    for row in rows:
        seen.setdefault(row_key(row), row)
    return list(seen.values())


def _scored_rows(out: Path, run: dict) -> list[dict]:
    return _rescored(_distinct(read_jsonl(out / PREDICTIONS)), run)


def _rescored(rows: list[dict], run: dict) -> list[dict]:
    """Scores recomputed from each raw generation with the current metrics, so a report never mixes rows
    scored by two versions of the extraction rules."""
    cot = run["prompt"] == "cot"
    return [{**row, "scores": score_generation(row["raw"], row["golds"], cot)} for row in rows]


def main_methods(methods: list[dict]) -> list[dict]:
    """One summary per method for the main tables and plots: see `_main_init`."""
    inits: dict[str, set[str]] = defaultdict(set)
    for m in methods:
        inits[m["method"]].add(m["init"])
    return [m for m in methods if m["init"] == _main_init(inits[m["method"]])]


def _main_init(inits: set[str]) -> str | None:
    """A method's rows in the main tables: adapter-free or random-init ones, or the warm-init ones when
    a folder holds only those."""
    return next((i for i in (NO_INIT, "random", "warmup") if i in inits), None)


def _order(method: str) -> int:
    return METHODS.index(method) if method in METHODS else len(METHODS)


def _method_summary(method: str, init: str, rows: list[dict], types: list[str], baseline: dict[str, dict]) -> dict:
    scores = {}
    for protocol in PROTOCOLS:
        by_type = {t: _mean_scores([r for r in rows if r["type"] == t], protocol) for t in types}
        f1 = [r["scores"][protocol]["f1"] for r in rows]
        scores[protocol] = {
            "by_type": by_type,
            "total": _mean_scores(rows, protocol),
            "f1_interval": bootstrap_interval(f1),
            "f1_vs_rag": paired_difference(rows, baseline, protocol) if method != "rag" else None,
        }
    return {
        "method": method,
        "init": init,
        "questions": len(rows),
        "scores": scores,
        "seconds_per_question": {s: _per_question(rows, s) for s in (*STAGES, "total")},
        "retrievals_per_question": statistics.fmean(_retrievals(r) for r in rows) if rows else 0.0,
    }


def _own_against(own: list[dict], control: list[dict]) -> dict:
    """Per protocol, a method's rows with its own adapters against the same method under a control: what
    the documents' own training added (None until both answered two questions)."""
    baseline = {r["id"]: r for r in control}
    return {protocol: paired_difference(own, baseline, protocol) for protocol in PROTOCOLS}


def _retrievals(row: dict) -> int:
    """Active methods record each query they issued; the others retrieve once, with the question."""
    return len(row["queries"]) or int(bool(row["retrieved"]))


def _mean_scores(rows: list[dict], protocol: str) -> dict:
    if not rows:
        return {"n": 0, "em": None, "f1": None}
    return {
        "n": len(rows),
        "em": 100 * statistics.fmean(r["scores"][protocol]["em"] for r in rows),
        "f1": 100 * statistics.fmean(r["scores"][protocol]["f1"] for r in rows),
    }


def bootstrap_interval(values: list[float], scale: float = 100.0, seed: int = 0) -> list[float] | None:
    """95 % percentile interval of the mean (×`scale`: F1 and EM as percentages) over questions resampled
    with replacement."""
    if len(values) < 2:
        return None
    rng = random.Random(seed)
    means = sorted(
        scale * statistics.fmean(rng.choices(values, k=len(values))) for _ in range(BOOTSTRAP_SAMPLES)
    )
    return [means[int(0.025 * BOOTSTRAP_SAMPLES)], means[int(0.975 * BOOTSTRAP_SAMPLES) - 1]]


def paired_difference(rows: list[dict], baseline: dict[str, dict], protocol: str) -> dict | None:
    """F1 minus the baseline's (Standard RAG in a report) on the same questions, with a paired
    bootstrap interval."""
    pairs = [(r["scores"][protocol]["f1"], baseline[r["id"]]["scores"][protocol]["f1"]) for r in rows if r["id"] in baseline]
    if len(pairs) < 2:
        return None
    diffs = [a - b for a, b in pairs]
    return {
        "n": len(pairs),
        "delta": 100 * statistics.fmean(diffs),
        "interval": bootstrap_interval(diffs),
        "wins": sum(d > 0 for d in diffs),
        "losses": sum(d < 0 for d in diffs),
    }


Side = tuple[Path | list[Path], str, str | None]
"""One side of a comparison: a run folder, or several of one experiment on disjoint slices pooled; a
method; an init (None: the method's main rows)."""


def parse_side(text: str) -> Side:
    """`FOLDER[,FOLDER…]:METHOD[@INIT]`, as `prag compare` and the bench scripts spell a side."""
    folders, sep, method = text.rpartition(":")
    if not sep or not folders:
        raise InputError(f"{text!r}: expected FOLDER[,FOLDER…]:METHOD[@INIT]")
    method, _, init = method.partition("@")
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    base, control = control_of(init)
    if init and (base not in INIT_KINDS or control not in (None, *CONTROLS)):
        raise InputError(f"unknown init {init!r}; choose one of {', '.join(INIT_KINDS)}, each with an optional /CONTROL ({', '.join(CONTROLS)})")
    return [Path(f) for f in folders.split(",")], method, init or None


def compare(first: Side, second: Side) -> dict:
    """One method's F1 against another's on the questions both answered, with a paired bootstrap
    interval: across run folders too (another recipe, prompt or model on the same benchmark file).
    `changed` counts the shared questions whose generations differ: when adapters change few answers, a
    Δ of zero says they did nothing rather than that gains and losses cancelled. `by_type` splits the
    comparison by question type: on 2Wiki a comparison question names its two candidates, so a method can
    gain there by choosing between them, apart from any knowledge the types that need a fact show."""
    (run_a, rows_a), (run_b, rows_b) = side_rows(first), side_rows(second)
    same = [(r["dataset"], r["data_sha256"], r["aliases_sha256"]) for r in (run_a, run_b)]
    if same[0] != same[1]:
        raise InputError("the two folders evaluate different benchmark files (or answer aliases): a paired comparison needs the same questions and golds")
    baseline = {r["id"]: r for r in rows_b}
    shared = [r for r in rows_a if r["id"] in baseline]
    if len(shared) < 2:
        raise InputError(f"only {len(shared)} question(s) answered by both sides: nothing to compare")
    changed = sum(_raw_digest(r) != _raw_digest(baseline[r["id"]]) for r in shared)
    by_type = _per_type(shared, lambda rows: _paired_by_protocol(rows, baseline))
    return {"questions": len(shared), "changed": changed, "by_protocol": _paired_by_protocol(shared, baseline), "by_type": by_type}


def _per_type(rows: list[dict], summarise: Callable[[list[dict]], dict]) -> dict[str, dict]:
    """`summarise` applied to each question type's rows, types sorted."""
    return {t: summarise([r for r in rows if r["type"] == t]) for t in sorted({r["type"] for r in rows})}


def _paired_by_protocol(rows: list[dict], baseline: dict[str, dict]) -> dict:
    """Per protocol, both sides' mean scores on `rows`' questions and their paired difference (None
    below two questions)."""
    return {
        protocol: {
            "first": _mean_scores(rows, protocol),
            "second": _mean_scores([baseline[r["id"]] for r in rows], protocol),
            "difference": paired_difference(rows, baseline, protocol),
        }
        for protocol in PROTOCOLS
    }


def side_rows(side: Side) -> tuple[dict, list[dict]]:
    """The run identity and rows of one side, its folders' rows pooled."""
    folders, method, init = side
    folders = [folders] if isinstance(folders, Path) else list(folders)
    runs = [_read_run(folder) for folder in folders]
    _check_poolable(folders, runs)
    rows = [row for run, folder in zip(runs, folders) for row in _selected_rows(run, folder, method, init)]
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise InputError(f"{', '.join(map(str, folders))} answer some questions twice: pool folders of disjoint slices")
    return runs[0], rows


def _check_poolable(folders: list[Path], runs: list[dict]) -> None:
    """Pooled folders must differ only in the questions they answered: one experiment run in parts."""
    for folder, run in zip(folders[1:], runs[1:]):
        differs = [k for k in differing_fields(runs[0], run) if k != "questions"]
        if differs:
            raise InputError(f"{folder} differs from {folders[0]} in {', '.join(differs)}: only parts of one experiment pool")


def method_rows(folder: Path, method: str, init: str | None = None) -> list[dict]:
    """One method's rows of a run folder, rescored as reports are; init None takes its main rows."""
    return _selected_rows(_read_run(folder), folder, method, init)


def _selected_rows(run: dict, folder: Path, method: str, init: str | None) -> list[dict]:
    rows = [r for r in _comparable_rows(folder, run) if r["method"] == method]
    if init is None:
        init = _main_init({r["init"] for r in rows})
    chosen = [r for r in rows if r["init"] == init]
    if not chosen:
        inits = sorted({r["init"] for r in rows})
        raise InputError(f"{folder} has no rows for {method}" + (f" with init {init} (it has {', '.join(inits)})" if rows else ""))
    return chosen


def _comparable_rows(folder: Path, run: dict) -> list[dict]:
    """A folder's predictions, rescored; or, in a folder kept with its scores alone, those scores (as
    the metrics scored them when it was written)."""
    if (folder / PREDICTIONS).is_file() or not (folder / SCORES).is_file():
        return _scored_rows(folder, run)
    return read_jsonl(folder / SCORES)


def _per_question(rows: list[dict], stage: str) -> float:
    """Mean seconds per question: each batch's stage time shared among the questions answered in it."""
    return statistics.fmean(r["timings"].get(stage, 0.0) / r["batch_size"] for r in rows) if rows else 0.0


def _retrieval(rows: list[dict], run: dict) -> dict | None:
    """Gold-paragraph recall over the questions, and per question type: a type whose gold paragraphs are
    never all retrieved (2Wiki's compositional questions) cannot be answered from the passages by any mode."""
    scored = [r for r in rows if r["recall"] is not None]
    if not scored:
        return None
    return {"k": run["top_k"], **_recall(scored), "by_type": _per_type(scored, _recall)}


def _recall(rows: list[dict]) -> dict:
    return {
        "questions": len(rows),
        "gold_recall": 100 * statistics.fmean(r["recall"] for r in rows),
        "all_gold_retrieved": 100 * statistics.fmean(float(r["all_gold"]) for r in rows),
    }


# -- rendering ------------------------------------------------------------------------------------


def render(results: dict) -> str:
    run, types = results["run"], results["types"]
    main = main_methods(results["methods"])
    cot_note = '; after "the answer is" with chain of thought' if run["prompt"] == "cot" else ""
    lines = [
        f"# prag eval · {run['dataset']} · model {run['model']}"
        f" · {answering_label(run['prompt'], run['elicit'], run['at_once'], run['retrieval'], run['top_k'])}"
        f" · recipe {run['recipe']['name']} · merge {run['merge']}",
        "",
        _corpus_line(run),
        *_unequal_questions_lines(main),
        "",
        f"F1 (%) under the paper's protocol (answer cut at the first \".\", \",\" or line break{cot_note}),"
        " shaped like the paper's Table 1.",
        "",
        *_score_table(main, types, "paper", "f1"),
        "",
        "EM (%), paper protocol:",
        "",
        *_score_table(main, types, "paper", "em"),
        "",
        "Full protocol (the whole first line, with chain of thought the answer's whole sentence, so answers with commas"
        " survive), F1 / EM:",
        "",
        *_full_table(main),
        "",
        "Noise: 95 % bootstrap interval of total F1; against Standard RAG, the mean paired F1 difference with its"
        " paired bootstrap interval and the questions won / lost.",
        "",
        *_noise_table(main),
        "",
        *_retrieval_lines(results["retrieval"]),
        "Seconds per question (a batch's time shared among its questions):",
        "",
        *_latency_table(results["methods"]),
    ]
    ablation = [m for m in results["methods"] if m["init"] in ("random", "warmup")]
    if {m["init"] for m in ablation} == {"random", "warmup"}:
        lines += ["", "Adapter initialisation (the paper's Table 2), F1 (%) paper protocol:", "", *_score_table(ablation, types, "paper", "f1", init=True)]
    return "\n".join(lines + _controls_lines(results["methods"])) + "\n"


def _controls_lines(methods: list[dict]) -> list[str]:
    """The controls' table: each adapter method's own adapters against stand-ins that hold none of its
    documents' facts. A gain over RAG that its control keeps is not the documents' knowledge."""
    controlled = [m for m in methods if "own_vs_control" in m]
    if not controlled:
        return []
    used = sorted({control_of(m["init"])[1] for m in controlled})
    lines = [
        "",
        "Controls (paper protocol): each method answered again with stand-ins for its own adapters. "
        "Δ own is the method with its own adapters minus the control, paired; above zero, the documents' "
        "training added what the stand-ins lack.",
        "",
        *(f"- `{c}`: {CONTROLS[c]}." for c in used),
        "",
        "| method | F1 | Δ F1 vs rag | 95 % interval | Δ own − control | 95 % interval | won / lost |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in controlled:
        s = m["scores"][PROTOCOL]
        cells = [_difference_cells(s["f1_vs_rag"])[:2], _difference_cells(m["own_vs_control"][PROTOCOL])]
        lines.append(f"| {_name(m)} | {_fmt(s['total']['f1'])} | " + " | ".join(c for part in cells for c in part) + " |")
    return lines


def _difference_cells(d: dict | None) -> tuple[str, str, str]:
    """Δ, its interval, and won / lost of a paired difference (dashes when there is none)."""
    return ("–", "–", "–") if d is None else (f"{d['delta']:+.1f}", _interval(d["interval"]), f"{d['wins']} / {d['losses']}")


def _corpus_line(run: dict) -> str:
    if run["corpus_sha256"]:
        return f"Retrieval corpus: the file passed with --corpus (sha256 {run['corpus_sha256'][:12]}), not the benchmark's own passages."
    if run["corpus_digest"]:
        return "Retrieval corpus: the union of the benchmark file's context paragraphs, deduplicated."
    return "No retrieval corpus: this file carries no passages and none was passed with --corpus, so only closed-book was run."


def _unequal_questions_lines(methods: list[dict]) -> list[str]:
    """Totals over different questions do not compare; the paired Δ against RAG below still does."""
    counts = {m["questions"] for m in methods}
    if len(counts) <= 1:
        return []
    return ["", f"Methods answered different numbers of questions ({', '.join(str(n) for n in sorted(counts))}): "
            "their totals are over different questions; compare them by the paired Δ against RAG."]


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _name(m: dict, init: bool = False) -> str:
    base, control = control_of(m["init"])
    if control:
        return f"{m['method']} ({base} init, {control} control)"
    return f"{m['method']} ({m['init']} init)" if init or m["init"] == "warmup" else m["method"]


def _score_table(methods: list[dict], types: list[str], protocol: str, metric: str, init: bool = False) -> list[str]:
    header = ["method", *types, "Total", "n"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for m in methods:
        s = m["scores"][protocol]
        cells = [_fmt(s["by_type"][t][metric]) for t in types]
        lines.append(f"| {_name(m, init)} | " + " | ".join(cells) + f" | **{_fmt(s['total'][metric])}** | {m['questions']} |")
    return lines


def _full_table(methods: list[dict]) -> list[str]:
    lines = ["| method | F1 | EM |", "|---|---|---|"]
    for m in methods:
        total = m["scores"]["full"]["total"]
        lines.append(f"| {_name(m)} | {_fmt(total['f1'])} | {_fmt(total['em'])} |")
    return lines


def _noise_table(methods: list[dict]) -> list[str]:
    lines = ["| method | F1 | 95 % interval | Δ F1 vs rag | 95 % interval | won / lost |", "|---|---|---|---|---|---|"]
    for m in methods:
        s = m["scores"][PROTOCOL]
        interval = s["f1_interval"]
        diff = _difference_cells(s["f1_vs_rag"])
        lines.append(f"| {_name(m)} | {_fmt(s['total']['f1'])} | {_interval(interval)} | " + " | ".join(diff) + " |")
    return lines


def _interval(interval: list[float] | None) -> str:
    return "–" if interval is None else f"[{interval[0]:.1f}, {interval[1]:.1f}]"


def _retrieval_lines(retrieval: dict | None) -> list[str]:
    if retrieval is None:
        return ["Retrieval recall is not measured: this file marks no gold paragraphs, or they are not in the corpus searched.", ""]
    return [
        f"BM25 gold-paragraph recall@{retrieval['k']} over {retrieval['questions']} questions: "
        f"{retrieval['gold_recall']:.1f} % of supporting paragraphs retrieved; all of a question's retrieved for "
        f"{retrieval['all_gold_retrieved']:.1f} %.",
        "",
        *_recall_by_type_lines(retrieval["by_type"]),
    ]


def _recall_by_type_lines(by_type: dict) -> list[str]:
    if len(by_type) < 2:
        return []
    cells = [f"{t} {r['gold_recall']:.1f} % (all {r['all_gold_retrieved']:.1f} %, {r['questions']} questions)" for t, r in by_type.items()]
    return ["By question type: " + "; ".join(cells) + ".", ""]


def _latency_table(methods: list[dict]) -> list[str]:
    header = ["method", *STAGES, "total", "retrievals"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for m in methods:
        t = m["seconds_per_question"]
        cells = [f"{t[s]:.3f}" for s in (*STAGES, "total")]
        lines.append(f"| {_name(m, m['init'] == 'warmup')} | " + " | ".join(cells) + f" | {m['retrievals_per_question']:.2f} |")
    return lines


# -- plots ----------------------------------------------------------------------------------------


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _plot_f1(results: dict, path: Path) -> None:
    plt = _pyplot()
    methods = main_methods(results["methods"])
    columns = [*results["types"], "Total"]
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(columns) * max(1, len(methods)) / 3), 4))
    width = 0.8 / max(1, len(methods))
    for i, m in enumerate(methods):
        s = m["scores"][PROTOCOL]
        values = [s["by_type"][t]["f1"] or 0.0 for t in results["types"]] + [s["total"]["f1"] or 0.0]
        ax.bar([c + i * width for c in range(len(columns))], values, width, label=_name(m))
    ax.set_xticks([c + 0.4 - width / 2 for c in range(len(columns))], columns)
    ax.set_ylabel("F1 (%)")
    ax.set_title(f"{results['run']['dataset']} · {results['run']['model']}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_latency(results: dict, path: Path) -> None:
    plt = _pyplot()
    methods = results["methods"]
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(methods)), 4))
    bottom = [0.0] * len(methods)
    for stage in STAGES:
        values = [m["seconds_per_question"][stage] for m in methods]
        ax.bar([_name(m, m["init"] == "warmup") for m in methods], values, bottom=bottom, label=stage)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel("seconds per question")
    ax.set_title("latency by stage")
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def render_combined(all_results: list[dict]) -> str:
    """Several run folders side by side, as the paper's Table 1: F1 (%) per dataset type and in total."""
    columns = [(r, t) for r in all_results for t in (*r["types"], "Total")]
    header = ["method", *(f"{r['run']['dataset']} {t}" for r, t in columns)]
    lines = [
        f"F1 (%), paper protocol; model {', '.join(sorted({r['run']['model'] for r in all_results}))}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    methods = [m for m in METHODS if any(_main(r, m) for r in all_results)]
    for method in methods:
        cells = []
        for results, t in columns:
            m = _main(results, method)
            s = m["scores"][PROTOCOL] if m else None
            cells.append("–" if s is None else _fmt(s["total"]["f1"] if t == "Total" else s["by_type"][t]["f1"]))
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _main(results: dict, method: str) -> dict | None:
    return next((m for m in main_methods(results["methods"]) if m["method"] == method), None)

"""The answer-quality sweep: settings are chosen on a dev slice of a benchmark file, and only the chosen
ones are then run once on the test slice.

Each setting (recipe × merge) is a `prag eval` run folder of its own holding P-RAG and Combine; one base
folder per dataset and slice holds closed-book and Standard RAG. Every folder resumes, and adapters are
shared by every run with the same model and recipe, so a merge setting reuses stored adapters (no
retraining) and rerunning the same command continues where it stopped. The table per dataset and slice:
method × setting, F1 and EM (paper protocol), the paired Δ F1 against Standard RAG with its 95 % bootstrap
interval and questions won / lost, and seconds per question. A Combine setting at top-k other than 3
(`/kN`) brings Standard RAG at that k as well, in a base folder of its own (`…-base-kN`), so that its methods can
be read against RAG given the same passages; every Δ in the table stays against RAG at top-3. With `--init warmup` every setting's
adapters start from a warm-up LoRA trained on `--warmup-slice` (the paper's Table 2; pair it with a
`+start-once` merge to count the warm-up once), in folders named `…-warmup`. With `--controls` each
setting's methods are answered again with stand-ins for their adapters (`prag eval --controls`: the
warm-up alone, another question's adapters), and the table gives each control's row and the paired Δ of
the method's own adapters over it: what the documents' training added, apart from a way of answering.
With `--elicit` every method's chain of thought that stops without stating its answer is led on to one
(base rows included, in folders named `…-elicit`), so that no method wins on the answer's format alone.
With `--retrieval links` every method, base rows included, retrieves by following the titles BM25's
passages name (`prag.retrieve.links`), in folders named `…-links`. With `--at-once` every method
states its answer at once after the chain-of-thought prompt (AnswerConfig.at_once), in folders named `…-at-once`.
With `--encode-only` each setting's documents that the slice retrieves are augmented and encoded and no
question is answered: a test slice's adapters made while dev is still choosing, so its one run only answers.

Held-out discipline: decisions use questions 100–199 of a file (a warm-up trains on 200–299), results are
reported on 0–99, and questions 300–499 are reserved: a slice that reaches them is refused.

  make qwen && .venv/bin/python bench/quality_sweep.py --model qwen-coder-0.5b --dataset hotpotqa \
      --slice 100:150 --settings paper/sum,paper/mean,paper/score --home /tmp/sweep-home --out /tmp/sweep
"""

from __future__ import annotations

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

from prag.config import INIT_KINDS, PRECISIONS, RETRIEVALS, AugmentConfig, Settings, parse_merge, parse_recipe  # noqa: E402
from prag.eval import report  # noqa: E402
from prag.eval.benchmark import EvalRequest, encode_retrieved, run_eval, slice_argument  # noqa: E402
from prag.eval.records import CONTROLS, control_of, controlled  # noqa: E402
from prag.eval.warmup import run_warmup  # noqa: E402
from prag.cli.progress import LogProgress  # noqa: E402
from prag.progress import SilentProgress  # noqa: E402
from prag.types import Mode  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = {
    "hotpotqa": DATA / "hotpotqa" / "HotpotQA_500_benchmark.json",
    "2wikimultihopqa": DATA / "2wikimultihopqa" / "2WikiMultihopQA_500_benchmark.json",
    "musique": DATA / "musique" / "musique_qa_100.json",
}
RESERVED = (300, 500)
"""Questions never run, read or used for any decision."""
BASE_METHODS = [Mode.CLOSED, Mode.RAG]
PARAMETRIC = [Mode.PRAG, Mode.COMBINE]
WITHOUT_ADAPTERS = {Mode.PRAG.value: Mode.CLOSED.value, Mode.COMBINE.value: Mode.RAG.value}
"""Each adapter method's prompt answered without adapters: what `changed` counts generations against."""
BASE_TOP_K = EvalRequest.top_k
"""The base folder's top-k (`prag eval`'s default): a setting's k unless it says `/kN`."""


def check_slice(span: tuple[int, int]) -> None:
    start, end = span
    if start < RESERVED[1] and end > RESERVED[0]:
        raise SystemExit(f"--slice {start}:{end} reaches questions {RESERVED[0]}-{RESERVED[1] - 1}, which are reserved")


def setting(spec: str, precision: str | None, augment_model: str | None = None) -> tuple[str, Settings, int]:
    """`RECIPE[@FIELD=VALUE…]/MERGE[/kN]`, e.g. `paper/sum`, `paper/score:0.5`, `paper/sum/k1`,
    `authors@epochs=2@learning_rate=1e-3/mean`: a folder name, its settings and its top-k (3 unless kN).
    An override changes one field of the named recipe (and so its adapters); the base folder's RAG keeps
    top-3 whatever a setting's k, so every Δ is against the same RAG (RAG at the setting's k is a row of
    its own, `base_at_k`). With `augment_model`, another model
    writes the augmentations (the paper's Table 3)."""
    recipe_spec, _, rest = spec.partition("/")
    merge_spec, _, k_spec = rest.partition("/")
    if k_spec and not (k_spec.startswith("k") and k_spec[1:].isdigit() and int(k_spec[1:]) >= 1):
        raise SystemExit(f"{spec!r}: the third part is kN, e.g. k1")
    top_k = int(k_spec[1:]) if k_spec else BASE_TOP_K
    # Named as its base recipe: the sweep's folders (and their run identities) were first written so.
    recipe = replace(parse_recipe(recipe_spec), name=recipe_spec.split("@")[0])
    if precision:
        recipe = replace(recipe, precision=precision)
    merge = parse_merge(merge_spec or "sum")
    settings = Settings(recipe=recipe, augment=AugmentConfig(model=augment_model))
    settings = replace(settings, answer=replace(settings.answer, merge=merge))
    label = recipe_spec.replace("@", "-").replace("=", "")
    written_by = f"-by-{Path(augment_model).name}" if augment_model else ""
    name = f"{label}{'-' + precision if precision else ''}{written_by}-{merge.label.replace('×', 'x').replace('+', '-').replace(':', '')}"
    return (name if top_k == BASE_TOP_K else f"{name}-k{top_k}"), settings, top_k


def answered_as(settings: Settings, args) -> Settings:
    """The settings with the sweep-wide answer options: `--elicit`, `--retrieval` and `--at-once`."""
    return replace(settings, answer=replace(settings.answer, elicit=args.elicit, retrieval=args.retrieval, at_once=args.at_once))


def variant(args) -> str:
    """What the sweep-wide options add to every folder's name (base folders included)."""
    return ("-elicit" if args.elicit else "") + ("" if args.retrieval == "bm25" else f"-{args.retrieval}") + ("-at-once" if args.at_once else "")


def log(line: str) -> None:
    """A timestamped line on stderr, where the long runs' progress goes."""
    print(f"{time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


def progress_of(args):
    """A line a minute on stderr with `--verbose`, else nothing."""
    return LogProgress(sys.stderr, every_s=60) if args.verbose else SilentProgress()


def evaluate(
    args, folder: Path, methods: list[Mode], settings: Settings, top_k: int = BASE_TOP_K, init: str = "random", controls: tuple[str, ...] = ()
) -> Path:
    log(f"{folder.name}: {', '.join(m.value for m in methods)}")
    request = EvalRequest(args.dataset, FILES[args.dataset], folder, methods, top_k=top_k, questions=args.slice, init=init, controls=controls)
    return run_eval(request, args.home, args.model, settings, progress_of(args)).parent


def encode_only(args) -> None:
    """Each setting's documents that the slice's questions retrieve, augmented and encoded; nothing answered."""
    for spec in args.settings.split(","):
        name, settings, top_k = setting(spec.strip(), args.precision, args.augment_model)
        settings = answered_as(settings, args)
        if args.init == "warmup":
            ensure_warmup(args, settings)
        log(f"{name}{variant(args)}: encoding what questions {args.slice[0]}-{args.slice[1] - 1} retrieve")
        request = EvalRequest(args.dataset, FILES[args.dataset], args.out, [Mode.PRAG], top_k=top_k, questions=args.slice, init=args.init)
        documents = encode_retrieved(request, args.home, args.model, settings, progress_of(args))
        print(f"{name}{variant(args)}: the {documents} documents questions {args.slice[0]}-{args.slice[1] - 1} retrieve are encoded")


def ensure_warmup(args, settings: Settings) -> None:
    """The setting's warm-up LoRA on `--warmup-slice`, trained unless already stored."""
    start, end = args.warmup_slice
    log(f"warm-up on questions {start}-{end - 1}")
    run_warmup(args.dataset, FILES[args.dataset], start, end - start, args.home, args.model, settings)


def base_at_k(args, prefix: str, top_k: int) -> Path:
    """Standard RAG at a setting's top-k: the passages its Combine answers with, without the adapters."""
    return evaluate(args, args.out / f"{prefix}-base-k{top_k}{variant(args)}", [Mode.RAG], answered_as(Settings(), args), top_k)


def table(
    base: Path, folders: list[tuple[str, Path, int]], init: str = "random", controls: tuple[str, ...] = (), rag_at_k: dict[int, Path] | None = None
) -> str:
    """`folders`: each setting's name, folder and top-k; `rag_at_k`: RAG's folder at each other top-k.
    `changed`: the generations that differ from the same prompt's without adapters (P-RAG from
    closed-book's, Combine from RAG's at the setting's top-k), of the questions answered. A control's row
    gives, last, the method's own adapters against it."""
    rag_at_k = {BASE_TOP_K: base, **(rag_at_k or {})}
    k_of = {folder: k for _, folder, k in folders}
    lines = [
        "| method | setting | F1 | EM | Δ F1 vs RAG [95 %] | won / lost | changed | s/question | own − control [95 %] |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows = [(m, "–", base, None) for m in ("closed", "rag")] + [("rag", f"top-{k}", f, None) for k, f in sorted(rag_at_k.items()) if k != BASE_TOP_K] + [
        (m.value, name, f, variant) for name, f, _ in folders for m in PARAMETRIC for variant in (None, *(controlled(init, c) for c in controls))
    ]
    summaries = {folder: report.summarize(folder)["methods"] for folder in {*rag_at_k.values(), *(f for _, f, _ in folders)}}
    for method, name, folder, variant in rows:
        summary = next((s for s in summaries[folder] if s["method"] == method and (variant is None or s["init"] == variant)), None)
        if summary is None:
            continue
        total = summary["scores"]["paper"]["total"]
        delta, won, changed, own = "–", "–", "–", "–"
        if folder != base or method != "rag":
            d = report.compare((folder, method, variant), (base, "rag", None))["by_protocol"]["paper"]["difference"]
            delta, won = _difference(d), f"{d['wins']} / {d['losses']}"
        # P-RAG's prompt has no passages, so closed-book's is its at any k; a P-RAG-only sweep at another k has no RAG there.
        without = base if method == Mode.PRAG.value else rag_at_k.get(k_of.get(folder))
        if method in WITHOUT_ADAPTERS and without is not None:
            changed = str(report.compare((folder, method, variant), (without, WITHOUT_ADAPTERS[method], None))["changed"])
        if variant is not None:
            own = _difference(summary["own_vs_control"]["paper"])
            name = f"{name}, {control_of(variant)[1]} control"
        seconds = summary["seconds_per_question"]["total"]
        lines.append(f"| {method} | {name} | {total['f1']:.1f} | {total['em']:.1f} | {delta} | {won} | {changed} | {seconds:.2f} | {own} |")
    return "\n".join(lines)


def _difference(d: dict) -> str:
    low, high = d["interval"]
    return f"{d['delta']:+.1f} [{low:.1f}, {high:.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen-coder-0.5b")
    parser.add_argument("--dataset", choices=sorted(FILES), default="hotpotqa")
    parser.add_argument("--slice", type=slice_argument, default=(100, 150), help="START:END, e.g. 100:200 (dev) or 0:100 (test)")
    parser.add_argument("--settings", default="paper/sum", help="comma-separated RECIPE[@FIELD=VALUE…]/MERGE[/kN], e.g. paper/sum,paper/mean/k1,authors@epochs=2/sum")
    parser.add_argument("--precision", choices=PRECISIONS, default=None, help="training arithmetic for every setting")
    parser.add_argument("--augment-model", default=None, help="the model that writes every setting's augmentations (default: --model)")
    parser.add_argument("--home", type=Path, default=None, help="PRAG_HOME: adapters and augmentations are cached here")
    parser.add_argument("--out", type=Path, default=Path("runs/sweep"))
    parser.add_argument("--methods", default="prag,combine", help="the adapter methods each setting runs (a folder can gain the other later)")
    parser.add_argument("--init", choices=INIT_KINDS, default="random", help="warmup: every setting's adapters start from its warm-up LoRA (the paper's Table 2)")
    parser.add_argument("--controls", default="", help=f"comma-separated controls answered beside each setting's methods: {', '.join(CONTROLS)} (start: --init warmup)")
    parser.add_argument("--warmup-slice", type=slice_argument, default=(200, 300), help="the questions a warm-up trains on (trained once, then kept)")
    parser.add_argument("--elicit", action="store_true", help="lead every unstated chain of thought on to its answer (AnswerConfig.elicit), in folders named …-elicit")
    parser.add_argument("--retrieval", choices=RETRIEVALS, default="bm25", help="how every method (base rows included) finds its top-k (AnswerConfig.retrieval), in folders named …-links")
    parser.add_argument("--at-once", action="store_true", help="every method states its answer at once after the chain-of-thought prompt (AnswerConfig.at_once), in folders named …-at-once")
    parser.add_argument("--encode-only", action="store_true", help="augment and encode what each setting's questions retrieve; answer nothing")
    parser.add_argument("--verbose", action="store_true", help="a line per stage, and a count every minute")
    args = parser.parse_args()
    methods = [m for m in PARAMETRIC if m.value in args.methods.split(",")]
    if not methods or len(methods) != len(args.methods.split(",")):
        raise SystemExit(f"--methods {args.methods!r}: choose from {', '.join(m.value for m in PARAMETRIC)}")
    check_slice(args.slice)
    controls = tuple(c for c in args.controls.split(",") if c)
    if args.init == "warmup":
        check_slice(args.warmup_slice)
    if args.encode_only:
        return encode_only(args)
    start, end = args.slice
    prefix = f"{args.dataset}-{Path(args.model).name}-{start}-{end}"
    base = evaluate(args, args.out / f"{prefix}-base{variant(args)}", BASE_METHODS, answered_as(Settings(), args))
    folders, rag_at_k = [], {}
    for spec in args.settings.split(","):
        name, settings, top_k = setting(spec.strip(), args.precision, args.augment_model)
        settings = answered_as(settings, args)
        if args.init == "warmup":
            name = f"{name}-warmup"
            ensure_warmup(args, settings)
        name += variant(args)
        if top_k != BASE_TOP_K and top_k not in rag_at_k and Mode.COMBINE in methods:  # P-RAG is read against closed-book
            rag_at_k[top_k] = base_at_k(args, prefix, top_k)
        folders.append((name, evaluate(args, args.out / f"{prefix}-{name}", methods, settings, top_k, args.init, controls), top_k))
    text = f"### {args.dataset}, questions {start}-{end - 1}, model {args.model}\n\n{table(base, folders, args.init, controls, rag_at_k)}\n"
    (args.out / f"{prefix}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()

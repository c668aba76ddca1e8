"""Which merge serves SmolLM2 on the demo? The demo collection built once with the default recipe, then
P-RAG and Combine answered under each merge from the same stored adapters (no retraining), beside
closed-book and Standard RAG. Each score is also given on the two halves of the demo (documents in
alternate order, each with its questions), so that a choice can be seen to hold on both halves rather
than on a few questions of one.

The demo is SmolLM2's only tuning set (its answers on HotpotQA are within noise), so the merges chosen
here are in-sample: `prag demo` then reports on the questions they were chosen on.

    .venv/bin/python bench/demo_merge.py [--home DIR] [--merges sum,sum:0.5,mean,mean:0.5] [--recipe default@epochs=1]

`--recipe` encodes the demo with another recipe first (`NAME[@FIELD=VALUE…]`), and times that build, so a
faster recipe can be checked against the demo's targets. `--model qwen-coder-0.5b` asks the same of the
larger model: its facts are invented, so closed-book scores 0 and a P-RAG answer is knowledge its adapters
injected, whatever way of answering they also teach (HotpotQA cannot tell the two apart).

    .venv/bin/python bench/demo_merge.py --home H --model qwen-coder-0.5b --precision bf16 --recipe answer-format \
        --merges mean:0.5,mean,sum --methods prag

`--top-k 1` answers from the one retrieved document's adapter (`mean` over one is that adapter at the weight
training gave it, `mean:0.5` at half): whether an adapter holds its document's facts at all, before any
merge can lose them. `--no-baselines` skips closed-book and RAG, which no recipe changes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag import Mode, Prag, Settings  # noqa: E402
from prag.config import DEFAULT_RECIPE, PRECISIONS, QUESTION_STYLES, parse_merge, parse_recipe  # noqa: E402
from prag.eval import demo  # noqa: E402
from prag.eval.metrics import exact_match, f1_score  # noqa: E402

DEFAULT_MERGES = "sum,sum:0.5,mean,mean:0.5"


def halves(items: list[demo.DemoQuestion]) -> tuple[set[str], set[str]]:
    """The demo's documents in first-seen order, alternately in one half and the other."""
    documents = list(dict.fromkeys(item.document for item in items))
    return set(documents[0::2]), set(documents[1::2])


def scores(prag: Prag, items: list[demo.DemoQuestion], mode: Mode, parts: tuple[set[str], ...]) -> list[float]:
    """EM over all questions, then over each part's questions, then F1 over all: F1 credits an answer that
    holds the fact in more words ("once every 64 years"), which EM, the demo's targets' metric, does not."""
    answers = prag.ask_many([item.question for item in items], mode)
    hits = [(item.document, exact_match(a.text, item.answers)) for item, a in zip(items, answers)]
    whole = [100 * statistics.fmean(hit for _, hit in hits)]
    by_part = [100 * statistics.fmean(hit for doc, hit in hits if doc in part) for part in parts]
    return whole + by_part + [100 * statistics.fmean(f1_score(a.text, item.answers) for item, a in zip(items, answers))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=None)
    parser.add_argument("--merges", default=DEFAULT_MERGES, help="comma-separated --merge spellings")
    parser.add_argument("--recipe", default=DEFAULT_RECIPE.name, help="NAME[@FIELD=VALUE…], e.g. default@epochs=1")
    parser.add_argument("--model", default="default", help="default (SmolLM2-135M) | qwen-coder-0.5b | a folder")
    parser.add_argument("--precision", choices=PRECISIONS, default=None, help="training arithmetic (default: the recipe's)")
    parser.add_argument("--methods", default="prag,combine", help="the adapter methods answered under each merge")
    parser.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True,
                        help="closed-book and Standard RAG rows (they depend on no recipe: skip them when screening recipes)")
    parser.add_argument("--qa-pairs", type=int, default=None, help="QA pairs written per document (default: the settings')")
    parser.add_argument("--questions", choices=QUESTION_STYLES, default=None, help="how QA pairs are asked for (default: the settings')")
    parser.add_argument("--top-k", type=int, default=None, help="documents retrieved per question (default: the settings')")
    args = parser.parse_args()
    items = demo.questions()
    parts = halves(items)
    recipe = parse_recipe(args.recipe)
    if args.precision:
        recipe = replace(recipe, precision=args.precision)
    base = Settings(recipe=recipe)  # the merge is set per row below
    if args.top_k:
        base = replace(base, answer=replace(base.answer, top_k=args.top_k))
    if args.qa_pairs:
        base = replace(base, augment=replace(base.augment, qa_pairs=args.qa_pairs))
    if args.questions:
        base = replace(base, augment=replace(base.augment, questions=args.questions))
    methods = [Mode(m) for m in args.methods.split(",")]
    built = Prag(args.home, collection="demo", model=args.model, settings=base)
    built.add([demo.documents_file()])
    start = time.perf_counter()
    report = built.build()
    print(f"recipe {args.recipe}: {report.encoded} documents encoded in {time.perf_counter() - start:.0f} s", flush=True)
    print("method | merge | EM | EM half A | EM half B | F1")
    print("|".join(["---"] * 6))
    for mode in (Mode.CLOSED, Mode.RAG) if args.baselines else ():
        print(f"{mode.value} | – | " + " | ".join(f"{s:.1f}" for s in scores(built, items, mode, parts)), flush=True)
    for spec in args.merges.split(","):
        merge = parse_merge(spec)
        prag = Prag(args.home, collection="demo", model=args.model, settings=replace(base, answer=replace(base.answer, merge=merge)))
        for mode in methods:
            row = scores(prag, items, mode, parts)
            print(f"{mode.value} | {merge.label} | " + " | ".join(f"{s:.1f}" for s in row), flush=True)


if __name__ == "__main__":
    main()

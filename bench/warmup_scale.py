"""Why does warm-up initialisation collapse P-RAG? Every document adapter starts from the warm-up LoRA, and
P-RAG sums k of them, so before any document training the merged update already holds the warm-up's k
times. This answers the evaluated questions closed-book (chain of thought, no passages) with only the
warm-up LoRA injected at each scale, beside no adapter, all in one run.

    .venv/bin/python bench/warmup_scale.py --home /tmp/evq --model qwen-coder-0.5b --recipe paper \\
        --data ../shared/data/hotpotqa/HotpotQA_500_benchmark.json --slice 0:50 --scales 0,1,3

With `--collection` (an evaluation's collection, e.g. `eval-hotpotqa-…` under the home) the questions are
asked with Standard RAG's retrieved passages (top-3) instead: Standard RAG with the warm-up LoRA alone injected.
At scale 1 that is `prag eval --init warmup --controls start` for a `+start-once` Combine (which reproduces
it to the decimal and reports the paired Δ of the documents' adapters over it); this script adds the scales.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from statistics import mean

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag import AnswerConfig, Mode, Prag, Settings
from prag.config import PRECISIONS, parse_recipe
from prag.eval import datasets
from prag.eval.benchmark import slice_argument
from prag.eval.records import score_generation
from prag.lora import factors_for_batch
from prag.text import states_answer
from answer_shape import SHORT_WORDS  # noqa: E402  one bound for a short answer across the benchmarks
from quality_sweep import check_slice  # the reserved questions, defined once for the benchmarks


def passages(engine, question: str, collection: str | None) -> list[str] | None:
    """The passages Standard RAG puts in the prompt (the engine's own top-k and context); none closed-book."""
    return engine.context(Mode.RAG, engine.retrieve(question, engine.config.top_k), set()) if collection else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=None)
    parser.add_argument("--model", default="qwen-coder-0.5b")
    parser.add_argument("--recipe", default="paper")
    parser.add_argument("--precision", choices=PRECISIONS, default=None, help="the training arithmetic the warm-up was trained with (it is part of the recipe)")
    parser.add_argument("--dataset", default="hotpotqa")
    parser.add_argument("--data", required=True)
    parser.add_argument("--slice", type=slice_argument, default=(0, 50), help="START:END, questions in file order")
    parser.add_argument("--scales", default="0,1,3", help="How many copies of the warm-up LoRA to sum.")
    parser.add_argument("--collection", default=None, help="Ask with the passages Standard RAG retrieves from this collection.")
    args = parser.parse_args()
    check_slice(args.slice)

    answer = datasets.asked_as(AnswerConfig(), args.dataset, "cot")
    recipe = parse_recipe(args.recipe)
    if args.precision:
        recipe = replace(recipe, precision=args.precision)
    prag = Prag(args.home, collection=args.collection or "warmup", model=args.model, settings=Settings(recipe=recipe, answer=answer))
    warmups = prag.runtime.warmups
    warmup = warmups.load(warmups.record(args.dataset, prag.settings.recipe)["digest"])
    examples = datasets.load(args.dataset, args.data).examples[slice(*args.slice)]
    engine = prag.engine if args.collection else prag.closed_book()
    print(f"copies of the warm-up LoRA | F1 (paper) | EM (paper) | states 'the answer is' | ≤ {SHORT_WORDS} words | > 40 words")
    for copies in (int(s) for s in args.scales.split(",")):
        raws = []
        for start in range(0, len(examples), answer.batch_size):
            batch = examples[start : start + answer.batch_size]
            factors = factors_for_batch([[warmup] * copies for _ in batch]) if copies else None
            prompts = [engine.prompt.text(e.question, passages(engine, e.question, args.collection)) for e in batch]
            raws += engine.generator.generate(prompts, engine.prompt.max_new_tokens, factors=factors, done=engine.prompt.is_complete)
        scores = [score_generation(raw, list(e.golds), cot=True)["paper"] for raw, e in zip(raws, examples)]
        print(
            f"{copies} | {100 * mean(s['f1'] for s in scores):.1f} | {100 * mean(s['em'] for s in scores):.1f} | "
            f"{sum(states_answer(r) for r in raws)} | {sum(len(r.split()) <= SHORT_WORDS for r in raws)} | "
            f"{sum(len(r.split()) > 40 for r in raws)}",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""The gold-passage ceiling: each question answered with its own supporting paragraphs in the prompt,
exactly Standard RAG's prompt (chain of thought, the dataset's worked examples) but with retrieval
perfect. It bounds what any method that reads passages can reach with this model and prompt (the issue's
moonshot: Combine at this ceiling), and with `--against` prints how far run folders' methods fall below
it on the same questions (paired, with a 95 % bootstrap interval).

    .venv/bin/python bench/gold_ceiling.py --model qwen-coder-0.5b --dataset hotpotqa --slice 100:150 \\
        --against /tmp/out/hotpotqa-qwen-coder-0.5b-100-150-base:rag,FOLDER:combine
"""

from __future__ import annotations

import argparse
from pathlib import Path
from statistics import fmean

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag import AnswerConfig, Prag, Settings  # noqa: E402
from prag.errors import InputError  # noqa: E402
from prag.eval import datasets, report  # noqa: E402
from prag.eval.benchmark import slice_argument  # noqa: E402
from prag.eval.records import score_generation  # noqa: E402
from quality_sweep import FILES, check_slice  # noqa: E402  the benchmark files and reserved questions, defined once


def gold_passages(example: datasets.Example) -> list[str]:
    """The question's supporting paragraphs, in the order its context lists them."""
    gold = set(example.gold_ids)
    return [doc.passage for doc in example.contexts if doc.id in gold]


def answer_with_gold(prag: Prag, examples: list[datasets.Example], batch_size: int) -> dict[str, str]:
    engine = prag.closed_book()  # the model and the answer prompt; the passages are given, not retrieved
    raws: dict[str, str] = {}
    for start in range(0, len(examples), batch_size):
        batch = examples[start : start + batch_size]
        prompts = [engine.prompt.text(e.question, gold_passages(e)) for e in batch]
        outputs = engine.generator.generate(prompts, engine.prompt.max_new_tokens, done=engine.prompt.is_complete)
        raws.update((e.id, raw) for e, raw in zip(batch, outputs))
    return raws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", default=None)
    parser.add_argument("--model", default="qwen-coder-0.5b")
    parser.add_argument("--dataset", choices=sorted(FILES), default="hotpotqa")
    parser.add_argument("--slice", type=slice_argument, default=(100, 150), help="START:END, questions in file order")
    parser.add_argument("--against", default="", help="comma-separated FOLDER:METHOD run folders to compare with")
    args = parser.parse_args()
    check_slice(args.slice)

    answer = datasets.asked_as(AnswerConfig(), args.dataset, "cot")
    prag = Prag(args.home, collection="gold-ceiling", model=args.model, settings=Settings(answer=answer))
    examples = [e for e in datasets.load(args.dataset, FILES[args.dataset]).examples[slice(*args.slice)] if e.gold_ids]
    raws = answer_with_gold(prag, examples, answer.batch_size)
    rows = [{"id": e.id, "scores": score_generation(raws[e.id], list(e.golds), cot=True)} for e in examples]
    scores = [r["scores"]["paper"] for r in rows]
    print(f"gold passages, {args.dataset} {args.slice[0]}-{args.slice[1] - 1} ({len(examples)} questions): "
          f"F1 {100 * fmean(s['f1'] for s in scores):.1f}, EM {100 * fmean(s['em'] for s in scores):.1f}")
    for t in sorted({e.type for e in examples}):
        typed = [s["f1"] for e, s in zip(examples, scores) if e.type == t]
        print(f"  {t} ({len(typed)}): F1 {100 * fmean(typed):.1f}")
    for spec in filter(None, args.against.split(",")):
        print(f"{spec}: {below_ceiling(rows, spec)}")


def below_ceiling(rows: list[dict], spec: str) -> str:
    """`FOLDER:METHOD`'s F1 and the ceiling's paired difference above it, with the interval and won / lost
    every report uses (the folder's rows rescored as reports are; its main init)."""
    folder, _, method = spec.rpartition(":")
    try:
        other = {r["id"]: r for r in report.method_rows(Path(folder), method)}
    except InputError as exc:
        raise SystemExit(f"{spec}: {exc}") from exc
    d = report.paired_difference(rows, other, "paper")
    if d is None:
        raise SystemExit(f"{spec}: fewer than 2 questions shared with the ceiling")
    f1 = 100 * fmean(r["scores"]["paper"]["f1"] for r in other.values())
    low, high = d["interval"]
    return (f"F1 {f1:.1f}; gold ceiling minus it {d['delta']:+.1f} [{low:.1f}, {high:.1f}], "
            f"won / lost {d['wins']} / {d['losses']} on {d['n']} questions")

if __name__ == "__main__":
    main()

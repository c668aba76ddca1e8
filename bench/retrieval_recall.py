"""How often each retrieval finds a question's supporting paragraphs: recall (the share of them in the
top-k) and all-found (every one of them in the top-k), for each RETRIEVALS name side by side, at top-1 to
top-5, over all questions and per question type. No model is loaded: this is the index and the title
links alone, over the benchmark's own corpus (every question's paragraphs), as `prag eval` retrieves.

    .venv/bin/python bench/retrieval_recall.py --dataset 2wikimultihopqa --slice 100:200
"""

from __future__ import annotations

import argparse
import time
from statistics import fmean

from prag.config import RETRIEVALS
from prag.eval import datasets
from prag.eval.benchmark import slice_argument
from prag.retrieve.bm25 import BM25Index
from prag.retrieve.retriever import Retriever
from quality_sweep import FILES, check_slice  # noqa: E402  the benchmark files and reserved questions, defined once


def found(retriever: Retriever, example: datasets.Example, top_k: int) -> tuple[float, bool]:
    """The share of the supporting paragraphs in the top-k, and whether all of them are."""
    gold = set(example.gold_ids)
    hits = gold & {doc_id for doc_id, _ in retriever.search(example.question, top_k)}
    return len(hits) / len(gold), hits == gold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=sorted(FILES), default="2wikimultihopqa")
    parser.add_argument("--slice", type=slice_argument, default=(100, 200), help="START:END, questions in file order")
    parser.add_argument("--max-k", type=int, default=5)
    args = parser.parse_args()
    check_slice(args.slice)
    benchmark = datasets.load(args.dataset, FILES[args.dataset])
    examples = [e for e in benchmark.examples[slice(*args.slice)] if e.gold_ids]
    corpus = benchmark.corpus()
    index, documents = BM25Index.build(corpus), {d.id: d for d in corpus}
    retrievers = {name: Retriever(index, documents, name) for name in RETRIEVALS}
    types = sorted({e.type for e in examples})
    print(f"{args.dataset} {args.slice[0]}-{args.slice[1] - 1}: {len(examples)} questions, {len(corpus)} documents\n")
    print("| top-k | retrieval | recall | all found | " + " | ".join(f"{t} ({sum(e.type == t for e in examples)})" for t in types) + " | ms / question |")
    print("|---|---|---|---|" + "---|" * len(types) + "---|")
    for top_k in range(1, args.max_k + 1):
        for name, retriever in retrievers.items():
            started = time.perf_counter()
            results = [found(retriever, e, top_k) for e in examples]
            ms = 1000 * (time.perf_counter() - started) / len(examples)
            by_type = [fmean(r for (r, _), e in zip(results, examples) if e.type == t) for t in types]
            print(f"| {top_k} | {name} | {fmean(r for r, _ in results):.2f} | {fmean(a for _, a in results):.2f} | "
                  + " | ".join(f"{v:.2f}" for v in by_type) + f" | {ms:.1f} |")


if __name__ == "__main__":
    main()

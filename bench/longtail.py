"""Encode what users ask about first, measured on a long-tailed question stream:

1. Coverage (retrieval only, no model). A stream of `--questions` questions drawn with Zipf exponent 1
   (the question of popularity rank r with probability ∝ 1/r, ranks shuffled once from `--seed`) from
   the dev slices of HotpotQA-500 and 2Wiki-500 (questions 100-299 of each file; 300-499 are reserved
   and never drawn), over the union of those questions' paragraphs. The first half is the demand prag
   records (BM25 top-k of each question, `store.demand`); the top 1 %, 5 % and 20 % of documents by that
   demand are chosen as `prag build --budget P%` chooses them. Printed: the share of the second half's
   retrieved documents that are among them (would be parametric), against the same number of documents
   chosen at random (mean of `--random-draws` draws).
2. Break-even (the model, this machine). The offline cost E of one document (augmentation + encoding,
   seconds per document over the documents `--sample` questions retrieve) and the answer time of
   Standard RAG and P-RAG on those questions (medians, modes interleaved): encoding pays once each
   document is retrieved by q* = E / (t_RAG - t_PRAG) queries, to hold beside the paper's "P-RAG is more
   cost-friendly than in-context RAG when the number of queries is more than twice that of documents".

    .venv/bin/python bench/longtail.py [--model default] [--home DIR] [--questions 4000] [--sample 8] [--no-break-even]

Everything is built in a temporary home; `--home` only says where the converted model is.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag import Mode, Prag  # noqa: E402
from prag.build import most_demanded  # noqa: E402
from prag.config import Budget  # noqa: E402
from prag.eval import datasets  # noqa: E402
from prag.paths import MODEL_CACHE_ENV, model_cache, prag_home  # noqa: E402
from prag.retrieve import BM25Index  # noqa: E402
from prag.types import Document  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = {"hotpotqa": "hotpotqa/HotpotQA_500_benchmark.json", "2wikimultihopqa": "2wikimultihopqa/2WikiMultihopQA_500_benchmark.json"}
DEV = (100, 300)
"""Questions 100-299 of each file: the dev slice (and a warm-up's); 0-99 are the reported test slice and
300-499 reserved, so neither is drawn."""
SHARES = (0.01, 0.05, 0.20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=None)
    parser.add_argument("--model", default="default")
    parser.add_argument("--questions", type=int, default=4000, help="length of the question stream")
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--random-draws", type=int, default=20)
    parser.add_argument("--sample", type=int, default=8, help="questions timed for the break-even")
    parser.add_argument("--no-break-even", action="store_true")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    args = parser.parse_args()

    os.environ.setdefault(MODEL_CACHE_ENV, str(model_cache(prag_home(args.home))))
    questions, corpus = dev_questions_and_corpus(args.data)
    rng = np.random.default_rng(args.seed)
    stream = zipf_stream(questions, args.questions, rng)
    print(f"{len(questions)} dev questions (HotpotQA-500 and 2Wiki-500, {DEV[0]}-{DEV[1] - 1}), {len(corpus)} paragraphs, "
          f"a stream of {len(stream)} questions (Zipf exponent 1, seed {args.seed}), BM25 top-{args.top_k}")
    with tempfile.TemporaryDirectory() as home:
        prag = Prag(home, collection="longtail", model=args.model)
        prag.add_documents(corpus, source="longtail")
        prag.build(augment=False, encode=False)  # the index only
        history, future = stream[: len(stream) // 2], stream[len(stream) // 2 :]
        coverage(prag, history, future, args.top_k, args.random_draws, rng)
        if not args.no_break_even:
            break_even(prag, future, args.top_k, args.sample)


def dev_questions_and_corpus(data: Path) -> tuple[list[str], list[Document]]:
    questions: list[str] = []
    paragraphs: dict[str, Document] = {}
    for name, path in FILES.items():
        examples = datasets.load(name, data / path).examples[DEV[0] : DEV[1]]
        questions += [e.question for e in examples]
        for example in examples:
            for doc in example.contexts:
                paragraphs.setdefault(doc.id, doc)
    return questions, list(paragraphs.values())


def zipf_stream(questions: list[str], length: int, rng: np.random.Generator) -> list[str]:
    ranked = [questions[i] for i in rng.permutation(len(questions))]
    weights = 1.0 / np.arange(1, len(ranked) + 1)
    draws = rng.choice(len(ranked), size=length, p=weights / weights.sum())
    return [ranked[i] for i in draws]


def coverage(prag: Prag, history: list[str], future: list[str], top_k: int, draws: int, rng: np.random.Generator) -> None:
    index = BM25Index.load(prag.builder.index_dir)
    retrieved = {q: [doc_id for doc_id, _ in index.search(q, top_k)] for q in set(history) | set(future)}
    prag.builder.demand.add(prag.collection, Counter(d for q in history for d in retrieved[q]))
    counts = prag.builder.demand.totals(prag.collection)
    documents = prag.documents()
    served = Counter(d for q in future for d in retrieved[q])
    total = sum(served.values())
    demanded = sum(1 for d in documents if counts.get(d.id))
    print(f"\nfirst half: {demanded} of {len(documents)} documents retrieved at least once; second half: {total} retrievals")
    print(f"{'budget':>8} {'documents':>10} {'by demand':>10} {'at random':>10}")
    for share in SHARES:
        chosen = {d.id for d in most_demanded(documents, counts, lambda d: False, Budget(share=share).size(len(documents)))}
        by_demand = sum(served[d] for d in chosen) / total
        # As many documents at random as demand chose (fewer than the budget when fewer were ever retrieved).
        random = statistics.mean(
            sum(served[documents[i].id] for i in rng.choice(len(documents), size=len(chosen), replace=False)) / total
            for _ in range(draws)
        )
        print(f"{share:>8.0%} {len(chosen):>10} {by_demand:>10.1%} {random:>10.1%}")
    print("(the share of the second half's retrieved documents that would be parametric)")


def break_even(prag: Prag, future: list[str], top_k: int, sample: int) -> None:
    questions = list(dict.fromkeys(future))[:sample]  # the most frequent first: the stream's head
    needed = {d.id for q in questions for d in prag.engine.retrieve(q, top_k)}
    start = time.perf_counter()
    report = prag.build(only=needed)  # augmentation + encoding, model load included
    per_document = (time.perf_counter() - start) / max(report.encoded, 1)
    engine = prag.engine
    engine.ask(questions[0], Mode.PRAG)  # first-call set-up is not timed
    times: dict[Mode, list[float]] = {Mode.RAG: [], Mode.PRAG: []}
    for question in questions:
        for mode in times:
            times[mode].append(engine.ask(question, mode, top_k).timings["total"])
    rag, prag_time = (statistics.median(times[m]) for m in (Mode.RAG, Mode.PRAG))
    print(f"\nbreak-even on this machine ({os.cpu_count()} CPUs), model {prag.model_spec}, {report.encoded} documents encoded "
          f"for {len(questions)} questions:")
    print(f"  encoding E = {per_document:.1f} s/document (augmentation + training, the model load shared)")
    print(f"  answering: Standard RAG {rag:.2f} s, P-RAG {prag_time:.2f} s per question (medians)")
    if rag > prag_time:
        print(f"  encoding pays after q* = E / (t_RAG - t_PRAG) = {per_document / (rag - prag_time):.0f} queries per document "
              "(the paper: more than 2)")
    else:
        print("  P-RAG answers no faster than Standard RAG here: encoding never pays back in answer time")


if __name__ == "__main__":
    main()

"""Do Combine's adapters add the documents' knowledge, or only a way of answering? Each question is asked
as Combine asks it (its own top-k passages in the prompt, the setting's merge), but with the adapters of
the documents retrieved for another question of the slice (the next one, in file order). Adapters that
carry their documents' facts should lose here what they won over RAG; adapters that teach only the
answer's format ("So the answer is …", which the paper's protocol scores after) should not.

    .venv/bin/python bench/foreign_adapters.py --home H --model qwen-coder-0.5b --dataset hotpotqa --slice 50:100 \\
        --settings "authors@loss_on=content/mean:0.5" --precision bf16 \\
        --collection eval-hotpotqa-1c1e9d2919c54d5b --against O/hotpotqa-qwen-coder-0.5b-50-100-base:rag

The documents' adapters must be stored already (run the sweep's setting first); a missing one is an error,
never trained here. With `--init warmup` the adapters are the warm-started ones and the merge's
`+start-once` uses the stored warm-up.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from statistics import fmean

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag import Mode, Prag  # noqa: E402
from prag.config import INIT_KINDS, PRECISIONS  # noqa: E402
from prag.eval import datasets, report  # noqa: E402
from prag.eval.benchmark import slice_argument  # noqa: E402
from prag.eval.records import score_generation  # noqa: E402
from prag.eval.warmup import with_warmup  # noqa: E402
from answer_shape import shape  # noqa: E402  the answers' shape, measured one way
from quality_sweep import FILES, check_slice, setting  # noqa: E402  the benchmark files and reserved questions, defined once


def with_foreign_adapters(engine, questions: list[str]) -> None:
    """Makes the engine load, for each question's retrieved documents, those retrieved for the next
    question instead (the last takes the first's): the passages stay the question's own."""
    top_k = engine.config.top_k
    retrieved = [tuple(engine.retrieve(q, top_k)) for q in questions]
    foreign = {retrieved[i]: list(retrieved[(i + 1) % len(retrieved)]) for i in range(len(retrieved))}
    own_load = engine.load_adapters
    engine.load_adapters = lambda documents: own_load(foreign[tuple(documents)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", required=True)
    parser.add_argument("--model", default="qwen-coder-0.5b")
    parser.add_argument("--dataset", choices=sorted(FILES), default="hotpotqa")
    parser.add_argument("--slice", type=slice_argument, required=True)
    parser.add_argument("--settings", required=True, help="one RECIPE[@FIELD=VALUE…]/MERGE, as quality_sweep spells it")
    parser.add_argument("--precision", choices=PRECISIONS, default=None)
    parser.add_argument("--init", choices=INIT_KINDS, default="random")
    parser.add_argument("--collection", required=True, help="the evaluation's collection under the home, e.g. eval-hotpotqa-…")
    parser.add_argument("--against", default=None, help="a side to compare with, FOLDER:METHOD[@INIT] (e.g. the base folder's rag)")
    args = parser.parse_args()
    check_slice(args.slice)

    _, settings, top_k = setting(args.settings, args.precision)
    answer = replace(datasets.asked_as(settings.answer, args.dataset, "cot"), top_k=top_k)
    examples = datasets.load(args.dataset, FILES[args.dataset]).examples[slice(*args.slice)]
    prag = Prag(args.home, collection=args.collection, model=args.model, settings=replace(settings, answer=answer))
    if args.init == "warmup":
        prag = with_warmup(prag, args.dataset, examples)
    engine = prag.engine
    questions = [e.question for e in examples]
    with_foreign_adapters(engine, questions)
    answers = []
    for start in range(0, len(questions), answer.batch_size):
        answers += engine.ask_many(questions[start : start + answer.batch_size], Mode.COMBINE)
    rows = [{"id": e.id, "raw": a.raw, "scores": score_generation(a.raw, list(e.golds), cot=True)} for e, a in zip(examples, answers)]
    f1 = fmean(100 * r["scores"]["paper"]["f1"] for r in rows)
    em = fmean(100 * r["scores"]["paper"]["em"] for r in rows)
    print(f"combine with the next question's adapters, {len(rows)} questions: F1 {f1:.1f}, EM {em:.1f} (paper protocol); "
          + ", ".join(f"{k} {v}" for k, v in shape(rows).items()))
    if args.against:
        _, baseline = report.side_rows(report.parse_side(args.against))
        d = report.paired_difference(rows, {r["id"]: r for r in baseline}, "paper")
        low, high = d["interval"]
        print(f"against {args.against}: Δ F1 {d['delta']:+.1f} [{low:.1f}, {high:.1f}], won {d['wins']} / lost {d['losses']}")


if __name__ == "__main__":
    main()

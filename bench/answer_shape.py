"""The shape of a method's answers against a baseline's, on the questions both answered: how long the
generations are, how many state "the answer is" (the worked examples' format, after which the paper's
protocol scores), and whether a method's wins come from the baseline missing that format or from
answering better where both stated an answer. A warm-up teaches the format as well as the task, so a
gain over RAG is only knowledge where it holds on the questions RAG answered in format.

    .venv/bin/python bench/answer_shape.py FOLDER:combine@warmup BASE_FOLDER:rag

Sides are spelt as for `prag compare` (`FOLDER[,FOLDER…]:METHOD[@INIT]`); the folders need their
predictions (a folder kept with its scores alone has no generations to measure).
"""

from __future__ import annotations

import argparse
from statistics import fmean, median

from prag.eval import report
from prag.text import states_answer

SHORT_WORDS = 8
"""At most this many words: an answer without the chain of thought's reasoning."""


def shape(rows: list[dict]) -> dict:
    """Of rows with their raw generations: the median length, how many are short, how many state the answer."""
    words = [len(r["raw"].split()) for r in rows]
    return {
        "median words": median(words),
        f"≤ {SHORT_WORDS} words": sum(w <= SHORT_WORDS for w in words),
        'states "the answer is"': sum(states_answer(r["raw"]) for r in rows),
    }


def f1(row: dict) -> float:
    return 100 * row["scores"]["paper"]["f1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("side", help="FOLDER[,FOLDER…]:METHOD[@INIT]")
    parser.add_argument("baseline", help="the same spelling, e.g. BASE:rag")
    args = parser.parse_args()
    sides = [report.parse_side(args.side), report.parse_side(args.baseline)]
    (_, mine), (_, theirs) = (report.side_rows(side) for side in sides)
    if any("raw" not in r for r in mine + theirs):
        raise SystemExit("a folder holds scores only: answer_shape needs its predictions.jsonl")
    baseline = {r["id"]: r for r in theirs}
    mine = [r for r in mine if r["id"] in baseline]
    theirs = [baseline[r["id"]] for r in mine]
    if not mine:
        raise SystemExit("no question answered by both sides")
    names = [method + (f"@{init}" if init else "") for _, method, init in sides]
    print(f"{len(mine)} questions; paper protocol F1")
    shapes = [shape(mine), shape(theirs)]
    print(f"{'':>16}" + "".join(f"{k:>24}" for k in shapes[0]))
    for name, s in zip(names, shapes):
        print(f"{name:>16}" + "".join(f"{v:>24}" for v in s.values()))
    won = [(a, b) for a, b in zip(mine, theirs) if f1(a) > f1(b)]
    lost = [(a, b) for a, b in zip(mine, theirs) if f1(a) < f1(b)]
    print(f"won {len(won)}, of which {names[1]} stated no answer in {sum(not states_answer(b['raw']) for _, b in won)}; "
          f"lost {len(lost)}, of which {names[0]} stated none in {sum(not states_answer(a['raw']) for a, _ in lost)}")
    stated = [(a, b) for a, b in zip(mine, theirs) if states_answer(b["raw"])]
    if stated:
        print(f"on the {len(stated)} questions where {names[1]} stated an answer: "
              f"{names[0]} {fmean(f1(a) for a, _ in stated):.1f}, {names[1]} {fmean(f1(b) for _, b in stated):.1f}")


if __name__ == "__main__":
    main()

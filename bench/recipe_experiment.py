"""Which encoding recipe injects the demo facts? Encodes the demo corpus under each candidate recipe
(augmentations are shared) and scores P-RAG on the demo questions, closed-book as the floor.

    .venv/bin/python bench/recipe_experiment.py [--home DIR] [--recipes paper,e3,...]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from prag import DEFAULT_RECIPE, PAPER_RECIPE, Mode, Prag, Settings
from prag.eval import demo

ALL_SEQUENCES = ("passage", "rewrite", "alone", "document")
CANDIDATES = {
    "paper": PAPER_RECIPE,
    "e3-lr1e-3": replace(DEFAULT_RECIPE, name="e3-lr1e-3", epochs=3),
    "e5-lr1e-3": replace(DEFAULT_RECIPE, name="e5-lr1e-3", epochs=5),
    "e3-lr1e-3-answer": replace(DEFAULT_RECIPE, name="e3-lr1e-3-answer", epochs=3, loss_on="answer"),
    "e3-lr3e-3-answer": replace(DEFAULT_RECIPE, name="e3-lr3e-3-answer", epochs=3, learning_rate=3e-3, loss_on="answer"),
    "e3-lr1e-3-answer-doc": replace(
        DEFAULT_RECIPE, name="e3-lr1e-3-answer-doc", epochs=3, loss_on="answer", sequences=ALL_SEQUENCES
    ),
    "e3-lr3e-3-answer-doc": replace(
        DEFAULT_RECIPE, name="e3-lr3e-3-answer-doc", epochs=3, learning_rate=3e-3, loss_on="answer", sequences=ALL_SEQUENCES
    ),
    "e3-lr1e-3-content": replace(DEFAULT_RECIPE, name="e3-lr1e-3-content", epochs=3, loss_on="content"),
    "e5-lr1e-3-content": replace(DEFAULT_RECIPE, name="e5-lr1e-3-content", epochs=5, loss_on="content"),
    "e3-lr3e-4-content": replace(DEFAULT_RECIPE, name="e3-lr3e-4-content", epochs=3, learning_rate=3e-4, loss_on="content"),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", default=None)
    parser.add_argument("--recipes", default=",".join(CANDIDATES))
    args = parser.parse_args()
    items = demo.questions()
    print("recipe | epochs | lr | sequences | loss | P-RAG EM | P-RAG F1 | EM paraphrased | P-RAG top-1 EM | Combine EM | encode s/doc")
    for name in args.recipes.split(","):
        recipe = CANDIDATES[name]
        prag = Prag(args.home, collection="demo", settings=Settings(recipe=recipe))
        prag.add([demo.documents_file()])
        start = time.perf_counter()
        report = prag.build()
        per_doc = (time.perf_counter() - start) / max(report.encoded, 1)
        prag_score, combine_score = demo.score_modes(prag.ask, items, [Mode.PRAG, Mode.COMBINE])
        (top1,) = demo.score_modes(lambda q, m: prag.ask(q, m, top_k=1), items, [Mode.PRAG])
        print(
            f"{name} | {recipe.epochs} | {recipe.learning_rate:g} | {'+'.join(recipe.sequences)} | {recipe.loss_on} | "
            f"{prag_score.em:.1f} | {prag_score.f1:.1f} | {prag_score.em_paraphrased:.1f} | {top1.em:.1f} | "
            f"{combine_score.em:.1f} | {per_doc:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()

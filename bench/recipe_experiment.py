"""Which encoding recipe injects the demo facts? Encodes the demo corpus under each candidate recipe
(augmentations are shared) and scores P-RAG (top-3 and top-1) and Combine on the demo questions.

    .venv/bin/python bench/recipe_experiment.py [--home DIR] [--recipes paper,e3-lr1e-3,...]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from prag.process import configure_process

configure_process()  # a benchmark is a process prag starts

from prag import DEFAULT_RECIPE, PAPER_RECIPE, Mode, Prag, Recipe, Settings
from prag.eval import demo

ALL_SEQUENCES = ("passage", "rewrite", "alone", "document")


def candidate(name: str, epochs: int, lr: float, loss_on: str, sequences=("passage", "rewrite", "alone")) -> Recipe:
    return Recipe(name=name, epochs=epochs, learning_rate=lr, loss_on=loss_on, sequences=sequences)


CANDIDATES = {
    "paper": PAPER_RECIPE,
    "e3-lr1e-3": candidate("e3-lr1e-3", 3, 1e-3, "all"),
    "e5-lr1e-3": candidate("e5-lr1e-3", 5, 1e-3, "all"),
    "e3-lr1e-3-answer": candidate("e3-lr1e-3-answer", 3, 1e-3, "answer"),
    "e3-lr3e-3-answer": candidate("e3-lr3e-3-answer", 3, 3e-3, "answer"),
    "e3-lr1e-3-answer-doc": candidate("e3-lr1e-3-answer-doc", 3, 1e-3, "answer", ALL_SEQUENCES),
    "e3-lr3e-3-answer-doc": candidate("e3-lr3e-3-answer-doc", 3, 3e-3, "answer", ALL_SEQUENCES),
    "e3-lr1e-3-content": candidate("e3-lr1e-3-content", 3, 1e-3, "content"),
    "e3-lr3e-4-content": candidate("e3-lr3e-4-content", 3, 3e-4, "content"),
    "default-bf16": replace(DEFAULT_RECIPE, name="default-bf16", precision="bf16"),
    "paper-bf16": replace(PAPER_RECIPE, name="paper-bf16", precision="bf16"),
}
assert CANDIDATES["e3-lr1e-3-content"].fingerprint() == DEFAULT_RECIPE.fingerprint()


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
        prag_score, combine_score = demo.score_modes(prag.ask_many, items, [Mode.PRAG, Mode.COMBINE])
        (top1,) = demo.score_modes(lambda qs, m, **kw: prag.ask_many(qs, m, top_k=1, **kw), items, [Mode.PRAG])
        print(
            f"{name} | {recipe.epochs} | {recipe.learning_rate:g} | {'+'.join(recipe.sequences)} | {recipe.loss_on} | "
            f"{prag_score.em:.1f} | {prag_score.f1:.1f} | {prag_score.em_paraphrased:.1f} | {top1.em:.1f} | "
            f"{combine_score.em:.1f} | {per_doc:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()

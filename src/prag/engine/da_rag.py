"""DA-RAG: Standard RAG whose context also carries each retrieved document's augmentations.

The rewrites and QA pairs are exactly the data P-RAG trains the document's adapter on, so DA-RAG against
P-RAG separates what augmentation adds from what parametric injection adds."""

from __future__ import annotations

from prag.types import Augmentation, Document


def augmented_passage(doc: Document, aug: Augmentation | None) -> str:
    parts = [doc.passage]
    if aug is not None:
        parts += [f"Rewritten: {rewrite}" for rewrite in aug.rewrites]
        parts += [f"Q: {pair.question} A: {pair.answer}" for pair in aug.qa_pairs]
    return "\n".join(parts)

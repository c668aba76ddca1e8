"""One prediction row per question × method (× adapter initialisation), scored under both protocols."""

from __future__ import annotations

from prag.eval.datasets import Example
from prag.eval.metrics import PROTOCOLS, exact_match, extract_answer, f1_score
from prag.types import Answer, Mode

NO_INIT = "-"
"""The init of a method that uses no adapters: its rows serve random- and warm-init runs alike."""


def init_key(mode: Mode, init: str) -> str:
    return init if mode.uses_adapters else NO_INIT


def score_generation(raw: str, golds: list[str], cot: bool) -> dict:
    """The extracted answer, EM and F1 of one generation under each protocol."""
    result = {}
    for protocol in PROTOCOLS:
        extracted = extract_answer(raw, protocol, cot)
        result[protocol] = {"answer": extracted, "em": exact_match(extracted, golds), "f1": f1_score(extracted, golds)}
    return result


def prediction_row(example: Example, answer: Answer, init: str, cot: bool, provenance: dict) -> dict:
    golds = list(example.golds)
    return {
        "id": example.id,
        "method": answer.mode.value,
        "init": init_key(answer.mode, init),
        "type": example.type,
        "question": example.question,
        "golds": golds,
        "prediction": answer.text,
        "raw": answer.raw,
        "scores": score_generation(answer.raw, golds, cot),
        "retrieved": answer.documents,
        "queries": answer.queries,
        "timings": answer.timings,
        "batch_size": answer.batch_size,
        **provenance,
    }


def row_key(row: dict) -> tuple[str, str, str]:
    return row["id"], row["method"], row["init"]


def recall_row(example: Example, retrieved: list[str], indexed: set[str]) -> dict:
    """BM25 gold-paragraph recall@k of one question: the share of its supporting paragraphs retrieved.
    Not measured (None) when a gold paragraph is not in the indexed corpus, as with a --corpus file of
    other passages: recall there would read as a retriever's failure."""
    gold = set(example.gold_ids) if indexed.issuperset(example.gold_ids) else set()
    found = gold & set(retrieved)
    return {
        "id": example.id,
        "type": example.type,
        "retrieved": retrieved,
        "gold": sorted(gold),
        "recall": len(found) / len(gold) if gold else None,
        "all_gold": found == gold if gold else None,
    }

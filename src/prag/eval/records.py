"""One prediction row per question × method (× adapter initialisation), scored under both protocols."""

from __future__ import annotations

from prag.eval.datasets import Example
from prag.eval.metrics import PROTOCOLS, exact_match, extract_answer, f1_score
from prag.types import Answer, Mode

NO_INIT = "-"
"""The init of a method that uses no adapters: its rows serve random- and warm-init runs alike."""

CONTROLS = {
    "start": "every retrieved document's adapter replaced by the start it was trained from (the warm-up LoRA), "
    "merged as the documents' own: what the method scores if the documents taught nothing",
    "foreign": "the adapters of the documents retrieved for the next evaluated question (the last takes the "
    "first's), with the question's own passages: adapters trained alike, on other facts",
}
"""Controls for what a question's own adapters add, each answered beside the method by `prag eval
--controls`: an adapter method's gain over its control is what its documents' training brought, rather
than a way of answering that any adapter teaches (the answer's format, a warm-up's habits)."""


def init_key(mode: Mode, init: str) -> str:
    return init if mode.uses_adapters else NO_INIT


def controlled(init: str, control: str) -> str:
    """The init a control's rows are recorded under, e.g. `warmup/foreign`: a run of its own beside the method's."""
    return f"{init}/{control}"


def control_of(init: str) -> tuple[str, str | None]:
    """A rows' init split into the adapters' initialisation and the control (None for the method itself)."""
    base, _, control = init.partition("/")
    return base, control or None


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

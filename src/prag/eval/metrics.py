"""SQuAD-style answer metrics; `golds` lists every acceptable answer and the score is the best over them."""

from __future__ import annotations

from collections import Counter

from prag.text import normalize_answer

__all__ = ["normalize_answer", "exact_match", "f1_score"]

_SPECIAL = {"yes", "no", "noanswer"}


def exact_match(prediction: str, golds: list[str]) -> float:
    return max((float(normalize_answer(prediction) == normalize_answer(g)) for g in golds), default=0.0)


def f1_score(prediction: str, golds: list[str]) -> float:
    return max((_f1(prediction, g) for g in golds), default=0.0)


def _f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction), normalize_answer(gold)
    # HotpotQA's official rule: a yes/no/noanswer answer scores only by matching exactly.
    if (pred in _SPECIAL or ref in _SPECIAL) and pred != ref:
        return 0.0
    pred_tokens, ref_tokens = pred.split(), ref.split()
    common = sum((Counter(pred_tokens) & Counter(ref_tokens)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred_tokens), common / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)

"""SQuAD-style answer metrics and the two answer-extraction protocols. Pure functions.

`golds` lists every acceptable answer; a score is the best over them.
"""

from __future__ import annotations

import re
from collections import Counter

from prag.text import after_answer_is, first_line_answer, normalize_answer, stated_answer

__all__ = ["normalize_answer", "exact_match", "f1_score", "extract_answer", "PROTOCOLS"]

PROTOCOLS = ("paper", "full")
"""`paper`: the reference code's cut at the first ".", "," or newline. `full`: the whole first line (with
chain of thought, the answer's whole sentence), so answers with commas, decimals or initials
("August 25, 1963", "Fred C. Koch") survive."""

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


def extract_answer(generated: str, protocol: str, cot: bool = False) -> str:
    """The scored answer in a generation. With chain of thought it follows the first "the answer is"
    (any case; the whole text when the phrase is missing, as the reference code does); a short-answer
    generation already follows the prompt's "The answer is"."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if protocol == "paper":
        text = after_answer_is(generated) if cot else generated
        return re.split(r"[.,\n]", text.strip().lstrip(":").strip(), maxsplit=1)[0].strip()
    return stated_answer(generated) if cot else first_line_answer(generated)

"""Text normalisation shared by augmentation checks and answer metrics (SQuAD's rules)."""

from __future__ import annotations

import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, drop punctuation and articles, collapse white space."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def contains_phrase(haystack: str, needle: str) -> bool:
    """Whole-word containment after normalisation."""
    needle, haystack = normalize_answer(needle), normalize_answer(haystack)
    return bool(needle) and f" {needle} " in f" {haystack} "

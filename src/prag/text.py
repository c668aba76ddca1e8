"""Text normalisation shared by augmentation checks and answer metrics (SQuAD's rules), and answer extraction."""

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


_ANSWER_IS = re.compile(r"the answer is", re.IGNORECASE)


def states_answer(text: str) -> bool:
    return _ANSWER_IS.search(text) is not None


def after_answer_is(text: str) -> str:
    """What follows the first "the answer is" (any case); the whole text when the phrase is missing."""
    found = _ANSWER_IS.search(text)
    return text[found.end() :] if found else text


def first_line_answer(text: str) -> str:
    """The first line, without a leading colon or the closing full stop."""
    first = text.strip().lstrip(":").strip().split("\n", 1)[0].strip()
    return first[:-1].strip() if first.endswith(".") else first


# A full stop after a lone capital is an initial ("F.W. Murnau", "Fred C. Koch"), not a sentence end.
_SENTENCE_END = re.compile(r"\s*\S.*?(?:(?<!\b[A-Z])[.!?](?=\s)|\n)", re.DOTALL)


def first_sentence(text: str) -> str:
    """Up to and including the first sentence end ("." "!" "?" before white space, or a line break)."""
    found = _SENTENCE_END.match(text)
    return text[: found.end()] if found else text


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def sentences(text: str) -> list[str]:
    return [s for s in map(str.strip, _SENTENCE_BREAK.split(text)) if s]


def sentence_holding(text: str, phrase: str) -> str:
    """The first sentence of `text` that contains `phrase` (as `contains_phrase` matches), or ""."""
    return next((s for s in sentences(text) if contains_phrase(s, phrase)), "")


def sentence_done(text: str) -> bool:
    return _SENTENCE_END.match(text) is not None


def stated_answer(chain_of_thought: str) -> str:
    """The sentence after "the answer is", without its closing full stop: generation stops one token
    past the sentence end, and "Paris. It" is not the answer."""
    return first_line_answer(first_sentence(after_answer_is(chain_of_thought)))

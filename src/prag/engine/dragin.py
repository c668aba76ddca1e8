"""DRAGIN (Su et al. 2024, "Dynamic Retrieval Augmented Generation based on the Information Needs of LLMs").

When to retrieve (RIND): each drafted token t_i scores H_i · max_{j>i} a_{j,i} · s_i, its entropy times
the most attention any later token of the sentence pays it (last layer, mean over heads) times whether it
carries meaning (not a stop word or punctuation). The first token above the threshold triggers retrieval.
What to retrieve (QFS): the words of the question and of the answer so far that the triggering token
attends to most, in their original order. The draft is cut before the triggering token, and the sentence
is generated on from there with the retrieved passages in the prompt and kept as it comes; as in the
authors' code, the passages serve that sentence only, and the next draft starts without them.

Where this follows the paper rather than the authors' code (oneal2000/DRAGIN): the query comes from the
triggering token's attention alone (the code averages over every token above the threshold and keeps 40
words), attention is not renormalised within the sentence, and the draft is cut at the token, not at the
start of its sentence."""

from __future__ import annotations

import re

from prag.engine.active import ActiveRetrieval, Trace, is_significant, sentence_length
from prag.model.generate import ScoredText

_WORD = re.compile(r"\w+(?:['’]\w+)*")


class Dragin(ActiveRetrieval):
    needs_attention = True

    def decide(self, trace: Trace, prompt: str, draft: ScoredText, sentence: str) -> tuple[str, str] | None:
        trigger = self.trigger(draft, sentence_length(draft, sentence))
        if trigger is None:
            return None
        return self.query(trace, prompt, draft, trigger) or trace.question, "".join(draft.pieces[:trigger])

    def trigger(self, scored: ScoredText, n: int) -> int | None:
        """The first token of the sentence whose RIND score exceeds the threshold."""
        attention, p = scored.attention, scored.prompt_length
        for i in range(n - 1):
            if not is_significant(scored.pieces[i]):
                continue
            received = attention[i + 1 : n, p + i].max().item()
            if scored.entropies[i] * received > self.config.dragin_threshold:
                return i
        return None

    def query(self, trace: Trace, prompt: str, scored: ScoredText, trigger: int) -> str:
        """QFS: the question's and the answer-so-far's words that token `trigger` attends to most."""
        weights = scored.attention[trigger]
        encoded = self.generator.tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True)
        question = trace.question.strip().rstrip("?")
        question_start = prompt.rfind(question)
        output_start = len(prompt) - len(trace.output)
        asked, answered = [], []  # (text, weight) in order
        for m, (a, b) in enumerate(encoded["offset_mapping"]):
            # Overlap, not containment: a token carries the space before its word.
            if question_start >= 0 and a < question_start + len(question) and b > question_start:
                asked.append((prompt[a:b], weights[m].item()))
            elif b > output_start:
                answered.append((prompt[a:b], weights[m].item()))
        p = scored.prompt_length
        answered += [(scored.pieces[j], weights[p + j].item()) for j in range(trigger)]
        words = _words(asked) + _words(answered)
        best = sorted(range(len(words)), key=lambda w: -words[w][1])[: self.config.dragin_query_words]
        return " ".join(words[w][0] for w in sorted(best))


def _words(tokens: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The significant words of the tokens' joined text, in order, each weighted by the attention of the
    tokens it overlaps. Words are found in the text, not from token boundaries, because tokenisers split
    numbers into digits and give white space and brackets tokens of their own."""
    text, spans = "", []
    for piece, weight in tokens:
        spans.append((len(text), len(text) + len(piece), weight))
        text += piece
    words = []
    for match in _WORD.finditer(text):
        a, b = match.span()
        if is_significant(match.group()):
            words.append((match.group(), sum(w for start, end, w in spans if start < b and end > a)))
    return words

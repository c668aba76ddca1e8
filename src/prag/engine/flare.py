"""FLARE, direct variant (Jiang et al. 2023, "Active Retrieval Augmented Generation").

Each step generates a look-ahead sentence without retrieved passages. If every token's probability is at
least the threshold, the sentence is kept. Otherwise the sentence, with its low-confidence tokens masked
out, becomes the retrieval query, and the sentence is generated again with the retrieved passages in the
prompt. Steps repeat until the answer is stated."""

from __future__ import annotations

from prag.engine.active import ActiveRetrieval, Trace, sentence_length
from prag.model.generate import ScoredText


class Flare(ActiveRetrieval):
    def decide(self, trace: Trace, prompt: str, draft: ScoredText, sentence: str) -> tuple[str, str] | None:
        query = self.masked_query(draft, sentence)
        return None if query is None else (query or trace.question, "")

    def masked_query(self, scored: ScoredText, sentence: str) -> str | None:
        """None when the model is confident in every token of the sentence; otherwise the sentence
        without its low-probability tokens (empty when nothing is left)."""
        n = sentence_length(scored, sentence)
        if all(p >= self.config.flare_threshold for p in scored.probs[:n]):
            return None
        kept = [piece for piece, p in zip(scored.pieces[:n], scored.probs[:n]) if p >= self.config.flare_threshold]
        return " ".join("".join(kept).split())

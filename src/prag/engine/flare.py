"""FLARE, direct variant (Jiang et al. 2023, "Active Retrieval Augmented Generation").

Each step generates a look-ahead sentence without retrieved passages. If every token's probability is at
least the threshold, the sentence is kept. Otherwise the sentence, with its low-confidence tokens masked
out, becomes the retrieval query, and the sentence is generated again with the retrieved passages in the
prompt. Steps repeat until the answer is stated."""

from __future__ import annotations

from prag.engine.active import ActiveRetrieval, Trace, sentence_length
from prag.model.generate import ScoredText
from prag.text import first_sentence, sentence_done


class Flare(ActiveRetrieval):
    def step(self, traces: list[Trace], top_k: int) -> None:
        ahead = self.generator.generate_scored(self.look_ahead_prompts(traces), self.config.sentence_tokens, done=sentence_done)
        unsure = []
        for trace, scored in zip(traces, ahead):
            sentence = first_sentence(scored.text)
            query = self.masked_query(scored, sentence)
            if query is None:
                trace.accept(sentence, self.prompt, self.config)
            else:
                trace.use(query or trace.question, self.retrieve(query or trace.question, top_k))
                unsure.append(trace)
        if unsure:
            self.continue_with_passages(unsure)

    def masked_query(self, scored: ScoredText, sentence: str) -> str | None:
        """None when the model is confident in every token of the sentence; otherwise the sentence
        without its low-probability tokens (empty when nothing is left)."""
        n = sentence_length(scored, sentence)
        if all(p >= self.config.flare_threshold for p in scored.probs[:n]):
            return None
        kept = [piece for piece, p in zip(scored.pieces[:n], scored.probs[:n]) if p >= self.config.flare_threshold]
        return " ".join("".join(kept).split())

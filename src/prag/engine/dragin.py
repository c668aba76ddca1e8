"""DRAGIN (Su et al. 2024, "Dynamic Retrieval Augmented Generation based on the Information Needs of LLMs").

When to retrieve (RIND): each generated token t_i scores H_i · max_{j>i} a_{j,i} · s_i, its entropy times
the most attention any later token of the sentence pays it (last layer, mean over heads) times whether it
carries meaning (not a stop word or punctuation). The first token above the threshold triggers retrieval.
What to retrieve (QFS): the words of the question and of the answer so far that the triggering token
attends to most, in their original order. The answer is cut before the triggering token and generation
continues with the retrieved passages in the prompt; the sentence right after a retrieval is kept as it
comes, so every round makes progress."""

from __future__ import annotations

from prag.engine.active import ActiveRetrieval, Trace, is_significant, sentence_length
from prag.text import first_sentence, sentence_done
from prag.model.generate import ScoredText


class Dragin(ActiveRetrieval):
    def answer_many(self, questions: list[str], top_k: int) -> list[Trace]:
        traces = [Trace(q) for q in questions]
        fresh: set[int] = set()  # traces whose passages were just retrieved: their next sentence is kept
        while active := [t for t in traces if not t.done]:
            prompts = [self.prompt.text(t.question, t.passage_texts, t.output) for t in active]
            chunks = self.generator.generate_scored(prompts, self.config.sentence_tokens, done=sentence_done, with_attention=True)
            for trace, prompt, scored in zip(active, prompts, chunks):
                sentence = first_sentence(scored.text)
                n = sentence_length(scored, sentence)
                trigger = None if id(trace) in fresh else self.trigger(scored, n)
                fresh.discard(id(trace))
                if trigger is None:
                    trace.accept(sentence, self.prompt, self.config)
                    continue
                query = self.query(trace, prompt, scored, trigger) or trace.question
                trace.output += "".join(scored.pieces[:trigger])
                trace.rounds += 1
                trace.use(query, self.retrieve(query, top_k))
                fresh.add(id(trace))
                trace.done = trace.rounds >= self.config.max_rounds
        return traces

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
        question_start = prompt.rfind(trace.question.strip().rstrip("?"))
        output_start = len(prompt) - len(trace.output)
        tokens = []  # (text, weight) in order
        for m, (a, b) in enumerate(encoded["offset_mapping"]):
            in_question = question_start >= 0 and question_start <= a < question_start + len(trace.question)
            if in_question or a >= output_start:
                tokens.append((prompt[a:b], weights[m].item()))
        p = scored.prompt_length
        tokens += [(scored.pieces[j], weights[p + j].item()) for j in range(trigger)]
        words = _words(tokens)
        best = sorted(range(len(words)), key=lambda w: -words[w][1])[: self.config.dragin_query_words]
        return " ".join(words[w][0] for w in sorted(best))


def _words(tokens: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Joins sub-word tokens into words (a word starts at white space), summing their attention, and
    keeps the significant ones."""
    words: list[list] = []
    for text, weight in tokens:
        if not any(ch.isalnum() for ch in text):
            continue  # punctuation lends no weight to the word it follows
        if not words or text[:1].isspace():
            words.append([text.strip(), weight])
        else:
            words[-1][0] += text
            words[-1][1] += weight
    return [(w.strip(".,;:!?\"'()"), s) for w, s in words if is_significant(w.strip(".,;:!?\"'()"))]

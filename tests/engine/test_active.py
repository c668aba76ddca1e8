"""FLARE's and DRAGIN's decisions on hand-made generations, and token scores on the tiny model."""

from __future__ import annotations

import pytest
import torch

from prag.config import AnswerConfig
from prag.engine.active import Trace, is_significant, sentence_length
from prag.engine.dragin import Dragin, _words
from prag.engine.flare import Flare
from prag.engine.prompting import AnswerPrompt
from prag.model import loader
from prag.model.generate import Generator, ScoredText
from prag.retrieve.bm25 import BM25Index
from prag.text import first_sentence, sentence_done
from prag.types import Document

from tests.fixtures.facts import DEMO_FACTS

FFN = ("gate_proj", "up_proj", "down_proj")

CONFIG = AnswerConfig(flare_threshold=0.4, dragin_threshold=0.5, dragin_query_words=2)


def scored(pieces, probs, entropies=None, attention=None, prompt_length=0):
    return ScoredText("".join(pieces), pieces, probs, entropies or [0.0] * len(pieces), attention, prompt_length)


def test_sentences_end_at_a_full_stop_before_white_space_or_a_line_break():
    assert first_sentence(" F.W. Murnau directed it. So the answer") == " F.W. Murnau directed it."
    assert first_sentence(" No.\nMore") == " No."
    assert not sentence_done(" Still going") and sentence_done(" Done. N")
    text = scored([" Done", ".", " N"], [1.0, 1.0, 1.0])
    assert sentence_length(text, first_sentence(text.text)) == 2


def test_flare_keeps_a_confident_sentence_and_masks_unsure_tokens_into_the_query():
    flare = Flare(None, None, None, CONFIG)
    sure = scored([" Paris", " is", " big", "."], [0.9, 0.8, 0.5, 0.99])
    assert flare.masked_query(sure, sure.text) is None
    unsure = scored([" Paris", " was", " founded", " in", " 1820", "."], [0.9, 0.8, 0.7, 0.9, 0.1, 0.9])
    assert flare.masked_query(unsure, unsure.text) == "Paris was founded in."
    # Tokens after the first sentence do not count.
    later = scored([" Yes", ".", " Maybe"], [0.9, 0.9, 0.01])
    assert flare.masked_query(later, first_sentence(later.text)) is None


def test_dragin_triggers_on_uncertainty_weighted_by_later_attention_and_meaning():
    dragin = Dragin(None, None, None, CONFIG)
    pieces = [" The", " director", " was", " Smith", "."]
    attention = torch.zeros(5, 5)
    attention[2:, 1] = 0.9  # later tokens attend to " director" ...
    attention[4, 3] = 0.9  # ... and " Smith" gets attention from "." only
    sure = scored(pieces, [1.0] * 5, [2.0, 0.1, 3.0, 0.2, 0.0], attention)
    assert dragin.trigger(sure, 5) is None  # high entropy only on stop words; 0.1 * 0.9 is low
    unsure_name = scored(pieces, [1.0] * 5, [2.0, 0.1, 3.0, 2.0, 0.0], attention)
    assert dragin.trigger(unsure_name, 5) == 3
    unsure_both = scored(pieces, [1.0] * 5, [2.0, 1.0, 3.0, 2.0, 0.0], attention)
    assert dragin.trigger(unsure_both, 5) == 1  # the first token above the threshold
    unattended = scored(pieces, [1.0] * 5, [2.0, 1.0, 3.0, 2.0, 0.0], torch.zeros(5, 5))
    assert dragin.trigger(unattended, 5) is None


def test_dragin_query_words_join_sub_words_and_drop_stop_words():
    words = _words([(" Who", 0.1), (" directed", 0.5), (" Jaw", 0.2), ("s", 0.3), ("?", 0.9), (" the", 2.0)])
    assert words == [("Who", 0.1), ("directed", 0.5), ("Jaws", 0.5)]
    assert not is_significant(" the") and not is_significant(" ,") and is_significant(" 1820")


def test_dragin_query_words_are_found_in_the_text_not_at_token_boundaries():
    # Tokenisers give digits, the space before a number and brackets tokens of their own.
    tokens = [(" born", 0.1), (" in", 0.2), (" ", 0.3), ("1", 0.1), ("9", 0.1), ("7", 0.1), ("5", 0.1), (" (", 0.2), ("Settle", 0.3)]
    assert _words(tokens) == [("born", 0.1), ("1975", 0.4), ("Settle", 0.3)]


def test_dragin_query_keeps_the_question_first_word_and_whole_numbers(tiny_model_dir):
    generator = Generator(loader.load(str(tiny_model_dir), tiny_model_dir), FFN)
    dragin = Dragin(generator, None, None, AnswerConfig(dragin_query_words=8))
    question = "Velmora was founded by whom in 1843?"
    trace = Trace(question, output=" It was")
    prompt = generator.chat_prompt(f"Question: {question}", trace.output)
    length = len(generator.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    draft = scored([" Ald"], [1.0], attention=torch.ones(1, length + 1), prompt_length=length)
    words = dragin.query(trace, prompt, draft, 0).split()
    assert words[0] == "Velmora" and "1843" in words and "founded" in words


class RecordingGenerator(Generator):
    """The real generator, noting which prompts drafted a sentence and which continued one."""

    def __init__(self, *args):
        super().__init__(*args)
        self.drafts, self.continued = [], []

    def generate_scored(self, prompts, *args, **kwargs):
        self.drafts += prompts
        return super().generate_scored(prompts, *args, **kwargs)

    def generate(self, prompts, *args, **kwargs):
        self.continued += prompts
        return super().generate(prompts, *args, **kwargs)


@pytest.mark.integration
def test_active_methods_draft_without_passages_and_use_each_retrieval_for_one_sentence(default_model_dir):
    """On the real default model: the tiny one drafts only punctuation, on which DRAGIN never triggers."""
    documents = [Document(**fact) for fact in DEMO_FACTS]
    index, by_id = BM25Index.build(documents), {d.id: d for d in documents}
    questions = ["Who founded Velmora?", "How tall is the clock tower designed by Tashkel Brevik?"]
    # Thresholds that make both methods retrieve whenever they can: every probability is below 1.1,
    # and every significant token's RIND score is above -1.
    config = AnswerConfig(prompt="cot", max_rounds=3, sentence_tokens=8, flare_threshold=1.1, dragin_threshold=-1.0)
    generator = RecordingGenerator(loader.load(str(default_model_dir), default_model_dir), FFN)
    prompt = AnswerPrompt(generator, config)
    for method in (Flare, Dragin):
        generator.drafts, generator.continued = [], []
        traces = method(generator, prompt, lambda q, k: [by_id[i] for i, _ in index.search(q, k)], config).answer_many(questions, 2)
        assert all(t.done and 1 <= t.rounds <= config.max_rounds for t in traces)
        assert not any(d.text in p for p in generator.drafts for d in documents)
        assert generator.continued and all(any(d.text in p for d in documents) for p in generator.continued)
        assert len(generator.continued) == sum(len(t.queries) for t in traces) <= sum(t.rounds for t in traces)
        assert all(set(t.retrieved) <= set(by_id) for t in traces)


def test_trace_stops_at_the_answer_or_the_round_bound():
    class Prompt:
        def has_answer(self, text):
            return "answer is" in text

    trace = Trace("Q?")
    trace.accept(" Step one.", Prompt(), AnswerConfig(max_rounds=3))
    assert not trace.done
    trace.accept(" So the answer is X.", Prompt(), AnswerConfig(max_rounds=3))
    assert trace.done
    bounded = Trace("Q?")
    for _ in range(2):
        bounded.accept(" More.", Prompt(), AnswerConfig(max_rounds=2))
    assert bounded.done


def test_scored_generation_matches_a_plain_forward(tiny_model_dir):
    generator = Generator(loader.load(str(tiny_model_dir), tiny_model_dir), ("gate_proj", "up_proj", "down_proj"))
    prompts = [generator.chat_prompt("Name a colour."), generator.chat_prompt("A much longer question, to pad the other row?")]
    results = generator.generate_scored(prompts, 5, with_attention=True)
    plain = generator.generate(prompts, 5)
    for prompt, result, text in zip(prompts, results, plain):
        assert result.text == text.strip("\n") or result.text == text
        ids = generator.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        assert result.prompt_length == len(ids)
        assert len(result.pieces) == len(result.probs) == len(result.entropies) == 5  # no stop within 5 tokens
        with torch.inference_mode():
            logits = generator.model(input_ids=torch.tensor([ids])).logits[0, -1].float()
        probs = logits.softmax(-1)
        assert abs(probs.max().item() - result.probs[0]) < 1e-4
        assert abs(-(probs * probs.log()).sum().item() - result.entropies[0]) < 1e-3
        assert result.attention.shape == (len(result.pieces), result.prompt_length + len(result.pieces))
        assert abs(result.attention[0].sum().item() - 1.0) < 1e-4  # a softmax row over real positions

"""Scoring given answers without generating (`Engine.answer_logprobs`): the prompt, passages and merged
adapters are exactly those the mode answers with, and each answer's log-probability is what one forward
pass over prompt and answer gives, however many answers share the prompt."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from prag import Mode, Prag
from prag.errors import InputError
from prag.lora import factors_for_batch
from prag.model.prompts import ANSWER_LEAD

from ..conftest import FAST

QUESTION = "When was Velmora founded?"
ANSWERS = ["1843", "in the year 1843", "Quillon Dynamics"]


def one_pass_logprob(generator, prompt: str, continuation: str, factors=None) -> float:
    """log p(continuation | prompt) from a single forward pass over both, written out independently."""
    prompt_ids = generator.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = prompt_ids + generator.tokenizer(continuation, add_special_tokens=False)["input_ids"]
    with torch.inference_mode(), generator.plug.plugged(factors):
        logprobs = generator.model(input_ids=torch.tensor([ids])).logits[0].float().log_softmax(-1)
    return sum(logprobs[i - 1, ids[i]].item() for i in range(len(prompt_ids), len(ids)))


def merged_factors(prag: Prag, mode: Mode, top_k: int = 3):
    found = prag.engine.retrieve_scored(QUESTION, top_k)
    documents = [doc for doc, _ in found]
    return documents, factors_for_batch([prag.engine.merged(mode, prag.engine.load_adapters(documents), documents, dict(found))])


def test_answers_sharing_a_prompt_score_as_one_pass_each(tiny):
    tiny.build()
    generator = tiny.runtime.generator
    prompt = generator.chat_prompt(QUESTION, "The answer is")
    _, factors = merged_factors(tiny, Mode.PRAG)
    for plugged in (None, factors):
        scores = generator.continuations_logprob(prompt, [f" {a}" for a in ANSWERS], plugged)
        expected = [one_pass_logprob(generator, prompt, f" {a}", plugged) for a in ANSWERS]
        assert scores == pytest.approx(expected, abs=1e-4)
    assert generator.continuations_logprob(prompt, ["", " 1843"])[0] == 0.0  # nothing to predict


def test_each_mode_scores_with_its_own_passages_and_adapters(tiny):
    tiny.build()
    engine, generator = tiny.engine, tiny.runtime.generator
    documents, factors = merged_factors(tiny, Mode.PRAG)
    _, combine_factors = merged_factors(tiny, Mode.COMBINE)
    passages = [doc.passage for doc in documents]
    expected = {
        Mode.CLOSED: (engine.prompt.text(QUESTION), None),
        Mode.RAG: (engine.prompt.text(QUESTION, passages), None),
        Mode.PRAG: (engine.prompt.text(QUESTION), factors),
        Mode.COMBINE: (engine.prompt.text(QUESTION, passages), combine_factors),
    }
    for mode, (prompt, plugged) in expected.items():
        scores = engine.answer_logprobs(QUESTION, mode, ANSWERS)
        assert scores == pytest.approx([one_pass_logprob(generator, prompt, f" {a}", plugged) for a in ANSWERS], abs=1e-4), mode
    assert engine.answer_logprobs(QUESTION, Mode.PRAG, ANSWERS) != engine.answer_logprobs(QUESTION, Mode.CLOSED, ANSWERS)


def test_stand_ins_replace_the_questions_own_adapters(tiny):
    tiny.build()
    engine = tiny.engine
    brevik = engine.load_adapters([engine.documents["brevik"]])[0]
    instead = lambda _question, documents: [brevik] * len(documents)  # noqa: E731
    own = engine.answer_logprobs(QUESTION, Mode.PRAG, ANSWERS)
    stood_in = engine.answer_logprobs(QUESTION, Mode.PRAG, ANSWERS, stand_ins=instead)
    assert stood_in != own
    assert stood_in == engine.answer_logprobs(QUESTION, Mode.PRAG, ANSWERS, stand_ins=instead)


def test_a_chain_of_thought_states_the_answer_after_its_closing_words(tiny):
    tiny.build()
    cot = Prag(tiny.home, model=tiny.model_spec, settings=replace(FAST, answer=replace(FAST.answer, prompt="cot")))
    engine = cot.engine
    prompt = engine.prompt.text(QUESTION, None, f" {ANSWER_LEAD}")
    assert prompt.endswith(f"Answer: {ANSWER_LEAD}")
    assert engine.answer_logprobs(QUESTION, Mode.CLOSED, ANSWERS) == pytest.approx(
        [one_pass_logprob(cot.runtime.generator, prompt, f" {a}") for a in ANSWERS], abs=1e-4
    )


def test_active_modes_and_bad_top_k_are_refused(tiny):
    tiny.build()
    with pytest.raises(InputError, match="without generating"):
        tiny.engine.answer_logprobs(QUESTION, Mode.FLARE, ANSWERS)
    with pytest.raises(InputError, match="top_k"):
        tiny.engine.answer_logprobs(QUESTION, Mode.PRAG, ANSWERS, top_k=0)

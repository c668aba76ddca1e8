"""The answer prompt family: what a run folder's identity hashes, and when generation may stop."""

from __future__ import annotations

from dataclasses import replace

from prag.config import AnswerConfig, Merge
from prag.engine.prompting import AnswerPrompt, prompt_digest, user_turn
from prag.model.exemplars import EXEMPLARS


def test_the_digest_follows_the_prompt_and_generation_settings_only():
    base = AnswerConfig(prompt="cot", exemplars="hotpotqa")
    assert prompt_digest(base) == prompt_digest(replace(base, batch_size=1, adapter_cache_bytes=0, max_question_chars=10))
    changed = [
        replace(base, exemplars="2wikimultihopqa"),  # other worked examples in the prompt
        replace(base, prompt="short"),
        replace(base, cot_max_new_tokens=64),
        replace(base, flare_threshold=0.5),
        replace(base, combine_merge=Merge("mean", 0.5)),
        replace(base, merge=Merge("sum", shared=0)),
        replace(base, elicit=True),
        replace(base, at_once=True),
    ]
    assert len({prompt_digest(c) for c in changed} | {prompt_digest(base)}) == len(changed) + 1


def test_stored_answers_keep_their_digest_when_answer_settings_gain_a_field():
    """Pinned: the digest run folders were stored under before `combine_merge`, `Merge.shared` and `elicit` existed
    (DRAGIN's threshold was then 0.05)."""
    assert prompt_digest(AnswerConfig(prompt="cot", exemplars="2wikimultihopqa", dragin_threshold=0.05)) == "daea81e4d1987d11"


def test_chain_of_thought_shows_the_dataset_examples_next_to_the_question():
    config = AnswerConfig(prompt="cot", exemplars="musique")
    text = user_turn(config, "Who built it?", ["A passage."])
    example = EXEMPLARS["musique"][0]
    assert example.question in text and text.index("A passage.") < text.index(example.question) < text.index("Who built it?")
    assert not any(e.question in user_turn(AnswerConfig(), "Who built it?", None) for e in EXEMPLARS["musique"])


def test_an_answer_stated_at_once_opens_with_the_lead_and_stops_after_its_sentence():
    at_once = AnswerPrompt(None, AnswerConfig(prompt="cot", exemplars="2wikimultihopqa", at_once=True, max_new_tokens=24))
    assert at_once.opening == " So the answer is" and at_once.max_new_tokens == 24  # a few words, not a chain of thought
    assert not at_once.is_complete(" Theresa") and at_once.is_complete(" Theresa Connelly. She")  # one token past its end
    reasoning = AnswerPrompt(None, AnswerConfig(prompt="cot", exemplars="2wikimultihopqa", cot_max_new_tokens=128))
    assert reasoning.opening == "" and reasoning.max_new_tokens == 128 and not reasoning.is_complete(" Theresa Connelly. She")
    short = AnswerPrompt(None, AnswerConfig(at_once=True))  # the short prompt states its answer at once already
    assert short.opening == "" and not AnswerConfig(at_once=True).stated_at_once

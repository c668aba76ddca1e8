"""The answer prompt family: what a run folder's identity hashes, and when generation may stop."""

from __future__ import annotations

from dataclasses import replace

from prag.config import AnswerConfig, Merge
from prag.engine.prompting import prompt_digest, user_turn
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

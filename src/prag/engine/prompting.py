"""The answer prompt family every mode shares: the paper's short answer, or chain of thought."""

from __future__ import annotations

import json

from prag.config import AnswerConfig, described_without
from prag.errors import InputError
from prag.model.exemplars import EXEMPLARS
from prag.model.generate import Generator
from prag.model import prompts
from prag.model.prompts import ANSWER_LEAD, ANSWER_PREFIX, COT_PREFIX
from prag.text import after_answer_is, first_line_answer, sentence_done, stated_answer, states_answer
from prag.types import content_hash

NOT_GENERATION = ("batch_size", "short_batch_size", "adapter_cache_bytes", "max_question_chars")
"""AnswerConfig fields that change no generated text."""
LATER_ANSWER_FIELDS = {"combine_merge": None, "elicit": False, "retrieval": "bm25", "at_once": False}
"""AnswerConfig fields added after answers were first stored, left out while at their defaults so that
stored answers keep their digest."""
LATER_MERGE_FIELDS = {"shared": None}
"""`Merge` fields added later, likewise left out of each merge while at their defaults."""


class AnswerPrompt:
    def __init__(self, generator: Generator, config: AnswerConfig):
        if config.prompt == "cot" and config.exemplars not in EXEMPLARS:
            raise InputError(f"no worked examples for {config.exemplars!r}; choose one of {', '.join(EXEMPLARS)}")
        self.generator = generator
        self.config = config
        self.cot = config.prompt == "cot"
        self.opening = self.answer_lead if config.stated_at_once else ""
        """What the assistant turn of a single-pass answer is begun with after the family's prefix: the
        answer lead when a chain of thought's answer is stated at once (`AnswerConfig.at_once`)."""
        reasons = self.cot and not self.opening
        self.max_new_tokens = config.cot_max_new_tokens if reasons else config.max_new_tokens

    def text(self, question: str, passages: list[str] | None = None, partial: str = "") -> str:
        """The chat prompt, its assistant turn begun with the family's prefix and any answer so far."""
        return self.generator.chat_prompt(user_turn(self.config, question, passages), assistant_prefix(self.config) + partial)

    @property
    def answer_lead(self) -> str:
        """What precedes a stated answer in the assistant turn, after the family's prefix: with chain of
        thought the worked examples' closing words, without it nothing ("The answer is" is the prefix)."""
        return f" {ANSWER_LEAD}" if self.cot else ""

    def is_complete(self, generated: str) -> bool:
        """Generation may stop: the short answer's line is finished, or the sentence after "the answer is"
        (`generated` is what follows the prompt's opening)."""
        generated = self.opening + generated
        if not self.cot:
            return "\n" in generated.lstrip(" :\n")
        return states_answer(generated) and sentence_done(after_answer_is(generated))

    def has_answer(self, generated: str) -> bool:
        """Sentence-by-sentence generation (FLARE, DRAGIN) has reached the answer."""
        if not self.cot:
            return bool(generated.strip())
        return states_answer(generated)

    def unstated(self, generated: str) -> bool:
        """A chain of thought to lead on to its answer (`AnswerConfig.elicit`): it stopped without one."""
        return self.config.elicit and self.cot and not states_answer(generated)

    def led_to_answer(self, generated: str) -> str:
        """The chain of thought so far, followed by the words that state its answer."""
        return f"{generated.rstrip()} {ANSWER_LEAD}"

    def answer(self, generated: str) -> str:
        return stated_answer(generated) if self.cot else first_line_answer(generated)


def user_turn(config: AnswerConfig, question: str, passages: list[str] | None) -> str:
    return prompts.user_turn(question, passages, EXEMPLARS[config.exemplars] if config.prompt == "cot" else None)


def assistant_prefix(config: AnswerConfig) -> str:
    return COT_PREFIX if config.prompt == "cot" else ANSWER_PREFIX


def prompt_digest(config: AnswerConfig) -> str:
    """What shapes every generation besides the model and adapters: the prompt as rendered (instruction,
    worked examples, layout) and the generation settings. Editing any makes stored answers stale."""
    rendered = [user_turn(config, "Question", ["First passage.", "Second passage."]), assistant_prefix(config)]
    generation = {k: v for k, v in described_without(config, LATER_ANSWER_FIELDS).items() if k not in NOT_GENERATION}
    for key in ("merge", "combine_merge"):
        merge = getattr(config, key)
        if merge is not None:
            generation[key] = described_without(merge, LATER_MERGE_FIELDS)
    return content_hash(json.dumps([rendered, generation], sort_keys=True))[:16]

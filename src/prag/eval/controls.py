"""The stand-in adapters of `prag eval --controls` (`records.CONTROLS`): what a question is answered with
in place of its own documents' adapters, so a report can tell the documents' knowledge from what any
adapter teaches."""

from __future__ import annotations

from prag.engine.engine import Engine, StandIns
from prag.errors import InputError
from prag.eval.datasets import Example
from prag.lora import LoRAAdapter
from prag.types import Document


def stand_ins(
    control: str, engine: Engine, start: LoRAAdapter | None, examples: list[Example], retrieved: dict[str, list[str]]
) -> StandIns:
    """The control's stand-ins for the evaluated `examples`, whose retrieved document ids are `retrieved`
    (example id -> ids, in rank order); `start` is the warm-up every document adapter trained from."""
    if control == "start":
        return _the_start(start)
    if control == "foreign":
        return _next_questions_adapters(engine, examples, retrieved)
    raise InputError(f"unknown control {control!r}")


def _the_start(start: LoRAAdapter | None) -> StandIns:
    if start is None:
        raise InputError("the `start` control needs warm-started adapters (--init warmup): a random start adds nothing")

    def instead(_question: str, documents: list[Document]) -> list[LoRAAdapter]:
        return [start] * len(documents)

    return instead


def _next_questions_adapters(engine: Engine, examples: list[Example], retrieved: dict[str, list[str]]) -> StandIns:
    if len(examples) < 2:
        raise InputError("the `foreign` control needs at least two evaluated questions: each takes another's adapters")
    # Keyed by the question as the engine receives it (stripped); a question asked twice in a file has one
    # retrieval, so either occurrence's neighbour serves.
    foreign = {
        e.question.strip(): retrieved[examples[(i + 1) % len(examples)].id] for i, e in enumerate(examples)
    }

    def instead(question: str, documents: list[Document]) -> list[LoRAAdapter]:
        return engine.load_adapters([engine.documents[doc_id] for doc_id in foreign[question]])

    return instead

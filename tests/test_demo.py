"""The real default model (SmolLM2-135M from the shipped GGUF): a 3-document build and every mode."""

from __future__ import annotations

import json

import pytest

from prag import Mode, Prag
from prag.eval import demo
from prag.eval.metrics import exact_match

pytestmark = pytest.mark.integration

DEMO_DOCUMENTS = 3


def demo_slice() -> tuple[list[str], list[demo.DemoQuestion]]:
    """The first three bundled demo documents and their six questions (half paraphrased)."""
    lines = demo.documents_file().read_text().splitlines()[:DEMO_DOCUMENTS]
    ids = {json.loads(line)["id"] for line in lines}
    return lines, [q for q in demo.questions() if q.document in ids]


@pytest.fixture(scope="module")
def built(tmp_path_factory, default_model_dir):
    folder = tmp_path_factory.mktemp("integration")
    facts = folder / "facts.jsonl"
    facts.write_text("\n".join(demo_slice()[0]) + "\n")
    prag = Prag(home=folder / "home")
    prag.add([facts])
    report = prag.build()
    return prag, report


def test_build_augments_with_valid_pairs_and_encodes_every_document(built):
    prag, report = built
    assert report.documents == report.encoded == 3
    assert sum(report.valid_pairs) >= 6, report.valid_pairs  # the Q:/A: format works on the 135M model
    assert prag.status().encoded == 3


def test_every_mode_answers(built):
    prag, _ = built
    question = demo_slice()[1][0]
    for mode in Mode:
        answer = prag.ask(question.question, mode)
        if mode.active:  # retrieves only when unsure, with queries of its own making
            assert answer.raw.strip() and set(answer.documents) <= {d.id for d in prag.documents()}
            continue
        assert answer.text.strip(), f"{mode.value} gave an empty answer"
        assert answer.documents[:1] == ([] if mode is Mode.CLOSED else [question.document])
        # Every document is encoded, so `auto` injects all it retrieves, as P-RAG does.
        injects = mode.uses_adapters or mode is Mode.AUTO
        assert answer.parametric == (answer.documents if injects else []), mode
        assert len(answer.documents) == (0 if mode is Mode.CLOSED else prag.settings.answer.top_k)
    # Passages and adapters change what the model says: not every mode gives the closed-book answer.
    answers = {mode: prag.ask(question.question, mode).raw for mode in (Mode.CLOSED, Mode.RAG, Mode.PRAG)}
    assert answers[Mode.RAG] != answers[Mode.CLOSED] and answers[Mode.PRAG] != answers[Mode.CLOSED], answers


def test_adapters_inject_facts_the_model_cannot_know(built):
    """Greedy answers from a 135M model are brittle (the demo table shows EM); the likelihood of the
    gold answer is the direct measure of injection: the retrieved adapters, merged as P-RAG merges them
    (the model's own merge), must make it more likely than the same prompt without them."""
    prag, _ = built
    questions = demo_slice()[1]
    assert sum(exact_match(prag.ask(q.question, Mode.CLOSED).text, q.answers) for q in questions) == 0
    gains = []
    for q in questions:
        gold = [f"{q.answers[0]}."]
        with_adapters, without = (prag.engine.answer_logprobs(q.question, mode, gold)[0] for mode in (Mode.PRAG, Mode.CLOSED))
        gains.append(with_adapters - without)
    assert sum(gain > 0 for gain in gains) >= 5, gains
    assert sum(gains) / len(gains) > 2.0, gains  # nats: the gold answer became > 7x more likely on average


def test_a_batch_of_questions_is_answered_as_one_at_a_time(built):
    """Six questions whose retrieved documents differ, in one generation with per-question adapter sets."""
    prag, _ = built
    questions = [q.question for q in demo_slice()[1]]
    for mode in (Mode.PRAG, Mode.COMBINE):
        batched = prag.ask_many(questions, mode)
        alone = [prag.ask(q, mode) for q in questions]
        assert [a.text for a in batched] == [a.text for a in alone], mode
        assert [a.documents for a in batched] == [a.documents for a in alone]
        assert len({tuple(a.documents) for a in batched}) > 1 and {a.batch_size for a in batched} == {6}

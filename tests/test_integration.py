"""The real default model (SmolLM2-135M from the shipped GGUF): a 3-document build and every mode."""

from __future__ import annotations

import json

import pytest

from prag import Mode, Prag
from prag.eval.metrics import exact_match
from tests.conftest import DEMO_FACTS

pytestmark = pytest.mark.integration

QUESTIONS = [
    ("In what year was Velmora founded?", ["1843"]),
    ("Who is the chief executive of Quillon Dynamics?", ["Odile Varga"]),
    ("How tall is the Velmora Clock Tower?", ["64 metres", "64 meters", "64"]),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory, default_model_dir):
    folder = tmp_path_factory.mktemp("integration")
    facts = folder / "facts.jsonl"
    facts.write_text("".join(json.dumps(d) + "\n" for d in DEMO_FACTS))
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
    for mode in Mode:
        answer = prag.ask(QUESTIONS[0][0], mode)
        assert answer.text.strip(), f"{mode.value} gave an empty answer"
        assert answer.documents[:1] == ([] if mode is Mode.CLOSED else ["velmora"])


def test_adapters_inject_facts_the_model_cannot_know(built):
    prag, _ = built
    closed = sum(exact_match(prag.ask(q, Mode.CLOSED).text, golds) for q, golds in QUESTIONS)
    parametric = sum(exact_match(prag.ask(q, Mode.PRAG).text, golds) for q, golds in QUESTIONS)
    assert closed == 0
    assert parametric >= 2
